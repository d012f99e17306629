import { ActorKind, type Actor as ActorMessage } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import type { Money as MoneyMessage } from '@brewmesh/gen/brewmesh/common/v1/money.ts'
import {
  AccountStatus,
  LedgerEntryKind,
  QuoteIssue as QuoteIssueEnum,
  RedemptionState,
  RewardKind as RewardKindEnum,
  Tier as TierEnum,
  type Account as AccountMessage,
  type Cart as CartMessage,
  type CartQuote as CartQuoteMessage,
  type LedgerEntry as EntryMessage,
  type Redemption as RedemptionMessage,
  type Reward as RewardMessage,
  type RewardQuote as RewardQuoteMessage,
} from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import type {
  Account,
  Actor,
  Cart,
  CartQuote,
  EntryKind,
  LedgerEntry,
  Money,
  QuoteIssue,
  Redemption,
  Reward,
  RewardKind,
  RewardQuote,
  Tier,
} from '../domain/model.ts'
import { nextTier, pointsExpireAt, tierFor, type LoyaltyRules } from '../domain/rules.ts'

/** Between domain objects and generated protobuf messages, used by gRPC handlers and events. */

export const moneyToProto = (m: Money): MoneyMessage => ({ amountMinor: String(m.amountMinor), currencyCode: m.currency })

/** A missing amount becomes -1 with no currency, which cart validation reports as required. */
export const moneyFromProto = (m: MoneyMessage | undefined): Money =>
  m ? { amountMinor: Number(m.amountMinor), currency: m.currencyCode } : { amountMinor: -1, currency: '' }

export const TIER_TO_PROTO: Record<Tier, TierEnum> = {
  bronze: TierEnum.TIER_BRONZE,
  silver: TierEnum.TIER_SILVER,
  gold: TierEnum.TIER_GOLD,
}

const ACTOR_KIND: Record<Actor['kind'], ActorKind> = {
  customer: ActorKind.ACTOR_KIND_CUSTOMER,
  staff: ActorKind.ACTOR_KIND_STAFF,
  service: ActorKind.ACTOR_KIND_SERVICE,
  system: ActorKind.ACTOR_KIND_SYSTEM,
}
export const actorToProto = (a: Actor): ActorMessage => ({ kind: ACTOR_KIND[a.kind], id: a.id, displayName: '' })

export const ENTRY_KIND_TO_PROTO: Record<EntryKind, LedgerEntryKind> = {
  earn: LedgerEntryKind.LEDGER_ENTRY_KIND_EARN,
  reserve: LedgerEntryKind.LEDGER_ENTRY_KIND_RESERVE,
  confirm: LedgerEntryKind.LEDGER_ENTRY_KIND_CONFIRM,
  release: LedgerEntryKind.LEDGER_ENTRY_KIND_RELEASE,
  expire: LedgerEntryKind.LEDGER_ENTRY_KIND_EXPIRE,
  adjust: LedgerEntryKind.LEDGER_ENTRY_KIND_ADJUST,
  reverse: LedgerEntryKind.LEDGER_ENTRY_KIND_REVERSE,
}

/** A requested kind; undefined for UNSPECIFIED or unknown numbers (validation reports it). */
export const entryKindFromProto = (k: LedgerEntryKind): EntryKind | undefined =>
  (Object.entries(ENTRY_KIND_TO_PROTO) as [EntryKind, LedgerEntryKind][]).find(([, v]) => v === k)?.[0]

const REWARD_KIND: Record<RewardKind, RewardKindEnum> = {
  free_drink: RewardKindEnum.REWARD_KIND_FREE_DRINK,
  amount_off: RewardKindEnum.REWARD_KIND_AMOUNT_OFF,
  percent_off: RewardKindEnum.REWARD_KIND_PERCENT_OFF,
}

const ISSUE: Record<QuoteIssue, QuoteIssueEnum> = {
  reward_not_found: QuoteIssueEnum.QUOTE_ISSUE_REWARD_NOT_FOUND,
  reward_inactive: QuoteIssueEnum.QUOTE_ISSUE_REWARD_INACTIVE,
  insufficient_points: QuoteIssueEnum.QUOTE_ISSUE_INSUFFICIENT_POINTS,
  tier_too_low: QuoteIssueEnum.QUOTE_ISSUE_TIER_TOO_LOW,
  min_subtotal_not_met: QuoteIssueEnum.QUOTE_ISSUE_MIN_SUBTOTAL_NOT_MET,
  no_eligible_item: QuoteIssueEnum.QUOTE_ISSUE_NO_ELIGIBLE_ITEM,
  nothing_left_to_discount: QuoteIssueEnum.QUOTE_ISSUE_NOTHING_LEFT_TO_DISCOUNT,
  account_closed: QuoteIssueEnum.QUOTE_ISSUE_ACCOUNT_CLOSED,
}
export const issueToProto = (issue: QuoteIssue | undefined) => (issue ? ISSUE[issue] : QuoteIssueEnum.QUOTE_ISSUE_UNSPECIFIED)

export function accountToProto(rules: LoyaltyRules, a: Account): AccountMessage {
  const next = nextTier(rules, a.lifetime)
  return {
    customerId: a.customerId,
    status: a.status === 'open' ? AccountStatus.ACCOUNT_STATUS_OPEN : AccountStatus.ACCOUNT_STATUS_CLOSED,
    balance: String(a.balance),
    reservedPoints: String(a.reserved),
    lifetimePoints: String(a.lifetime),
    tier: TIER_TO_PROTO[tierFor(rules, a.lifetime)],
    nextTier: next ? TIER_TO_PROTO[next.tier] : TierEnum.TIER_UNSPECIFIED,
    pointsToNextTier: String(next?.pointsNeeded ?? 0),
    lastActivityAt: a.lastActivityAt ?? undefined,
    pointsExpireAt: (a.status === 'open' ? pointsExpireAt(rules, a) : null) ?? undefined,
    openedAt: a.openedAt,
    closedAt: a.closedAt ?? undefined,
    updatedAt: a.updatedAt,
  }
}

export function entryToProto(e: LedgerEntry): EntryMessage {
  return {
    id: e.id,
    customerId: e.customerId,
    kind: ENTRY_KIND_TO_PROTO[e.kind],
    points: String(e.points),
    balanceAfter: String(e.balanceAfter),
    sourceId: e.sourceId,
    orderId: e.orderId,
    redemptionId: e.redemptionId,
    batchId: e.batchId,
    reason: e.reason,
    actor: actorToProto(e.actor),
    earnBasis: e.earnBasis ? moneyToProto(e.earnBasis) : undefined,
    multiplierPercent: e.multiplierPercent,
    reversesEntryId: e.reversesEntryId,
    createdAt: e.createdAt,
  }
}

export function rewardToProto(r: Reward): RewardMessage {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    kind: REWARD_KIND[r.kind],
    costPoints: String(r.costPoints),
    amountOff: r.amountOff ? moneyToProto(r.amountOff) : undefined,
    percentOff: r.percentOff,
    maxDiscount: r.maxDiscount ? moneyToProto(r.maxDiscount) : undefined,
    eligibleCategories: [...r.eligibleCategories],
    eligibleMenuItemIds: [...r.eligibleMenuItemIds],
    minSubtotal: r.minSubtotal ? moneyToProto(r.minSubtotal) : undefined,
    minTier: r.minTier ? TIER_TO_PROTO[r.minTier] : TierEnum.TIER_UNSPECIFIED,
    active: r.active,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }
}

const STATE = {
  reserved: RedemptionState.REDEMPTION_STATE_RESERVED,
  confirmed: RedemptionState.REDEMPTION_STATE_CONFIRMED,
  released: RedemptionState.REDEMPTION_STATE_RELEASED,
} as const

export function redemptionToProto(r: Redemption): RedemptionMessage {
  return {
    id: r.id,
    customerId: r.customerId,
    rewardId: r.rewardId,
    rewardName: r.rewardName,
    rewardKind: REWARD_KIND[r.rewardKind],
    orderId: r.orderId,
    points: String(r.points),
    discount: moneyToProto(r.discount),
    lineIds: [...r.lineIds],
    state: STATE[r.state],
    requestId: r.requestId,
    releaseReason: r.releaseReason,
    reservedAt: r.reservedAt,
    confirmedAt: r.confirmedAt ?? undefined,
    releasedAt: r.releasedAt ?? undefined,
    claim: r.claim,
  }
}

export function rewardQuoteToProto(q: RewardQuote): RewardQuoteMessage {
  return {
    rewardId: q.rewardId,
    rewardName: q.reward?.name ?? '',
    kind: q.reward ? REWARD_KIND[q.reward.kind] : RewardKindEnum.REWARD_KIND_UNSPECIFIED,
    costPoints: String(q.reward?.costPoints ?? 0),
    applicable: q.applicable,
    discount: moneyToProto(q.discount),
    lineIds: [...q.lineIds],
    issue: issueToProto(q.issue),
    issueMessage: q.issueMessage,
  }
}

export function quoteToProto(q: CartQuote): CartQuoteMessage {
  return {
    chosen: q.chosen.map(rewardQuoteToProto),
    suggestions: q.suggestions.map(rewardQuoteToProto),
    totalDiscount: moneyToProto(q.totalDiscount),
    pointsRequired: String(q.pointsRequired),
    balance: String(q.balance),
    tier: TIER_TO_PROTO[q.tier],
  }
}

export function cartFromProto(c: CartMessage | undefined): Cart | undefined {
  if (!c) return undefined
  return {
    items: c.items.map((i) => ({
      lineId: i.lineId,
      menuItemId: i.menuItemId,
      name: i.name,
      category: i.category,
      quantity: i.quantity,
      unitPrice: moneyFromProto(i.unitPrice),
      lineTotal: moneyFromProto(i.lineTotal),
    })),
    subtotal: moneyFromProto(c.subtotal),
    chosenRewardIds: [...c.chosenRewardIds],
  }
}
