/** The Loyalty service's domain objects, free of transport and storage types. */

/**
 * The largest number of points (and of minor units of money) the service handles: 2^53 - 1, the
 * largest integer a JavaScript number holds exactly. Points are plain numbers, so every value is
 * kept within +/- MAX_AMOUNT: an account's balance plus reserved points and its lifetime points
 * never pass it (the ledger refuses, CHECK constraints back it), an adjustment's points and a
 * cart's amounts are refused beyond it, and arithmetic that could pass it on the way (earning,
 * percentages) is done exactly.
 */
export const MAX_AMOUNT = Number.MAX_SAFE_INTEGER

export const TIERS = ['bronze', 'silver', 'gold'] as const
export type Tier = (typeof TIERS)[number]

export interface Money {
  /** Integer minor units (cents). */
  amountMinor: number
  currency: string
}

export interface Actor {
  kind: 'customer' | 'staff' | 'service' | 'system'
  id: string
}

export const SYSTEM = (job: string): Actor => ({ kind: 'system', id: job })

export interface Account {
  customerId: string
  status: 'open' | 'closed'
  /** Spendable points, never negative (reserved points are already taken out). */
  balance: number
  reserved: number
  lifetime: number
  /** Grows by one with every event of the account (LoyaltyEvent.version). */
  version: number
  lastActivityAt: Date | null
  openedAt: Date
  closedAt: Date | null
  updatedAt: Date
}

export type EntryKind = 'earn' | 'reserve' | 'confirm' | 'release' | 'expire' | 'adjust' | 'reverse'

export interface LedgerEntry {
  id: string
  customerId: string
  kind: EntryKind
  /** Signed change to the balance. */
  points: number
  balanceAfter: number
  /** What made it (event id, request id, line id, job run key); unique per (customer, kind). */
  sourceId: string
  orderId: string
  redemptionId: string
  batchId: string
  reason: string
  actor: Actor
  earnBasis: Money | null
  multiplierPercent: number
  reversesEntryId: string
  /** Hash of the request that made it (ADJUST), to tell a retry from a reused key. */
  requestHash: string
  createdAt: Date
}

export type RewardKind = 'free_drink' | 'amount_off' | 'percent_off'

export interface Reward {
  id: string
  name: string
  description: string
  kind: RewardKind
  costPoints: number
  amountOff: Money | null
  percentOff: number
  maxDiscount: Money | null
  eligibleCategories: string[]
  eligibleMenuItemIds: string[]
  minSubtotal: Money | null
  minTier: Tier | null
  active: boolean
  createdAt: Date
  updatedAt: Date
}

export type RedemptionState = 'reserved' | 'confirmed' | 'released'

export interface Redemption {
  id: string
  customerId: string
  rewardId: string
  rewardName: string
  rewardKind: RewardKind
  orderId: string
  points: number
  discount: Money
  lineIds: string[]
  state: RedemptionState
  requestId: string
  requestHash: string
  releaseReason: string
  reservedAt: Date
  /**
   * When a placement last asked for it: when it was reserved, or later when a retry of the same
   * placement got it back. The reservation hold counts from here.
   */
  claimedAt: Date
  /** How many times a placement asked for it: 1 when reserved, one more per retry that got it back. */
  claim: number
  confirmedAt: Date | null
  releasedAt: Date | null
}

export interface CartItem {
  lineId: string
  menuItemId: string
  name: string
  category: string
  quantity: number
  unitPrice: Money
  lineTotal: Money
}

export interface Cart {
  items: CartItem[]
  subtotal: Money
  chosenRewardIds: string[]
}

export type QuoteIssue =
  | 'reward_not_found'
  | 'reward_inactive'
  | 'insufficient_points'
  | 'tier_too_low'
  | 'min_subtotal_not_met'
  | 'no_eligible_item'
  | 'nothing_left_to_discount'
  | 'account_closed'

export interface RewardQuote {
  rewardId: string
  reward: Reward | undefined
  applicable: boolean
  discount: Money
  lineIds: string[]
  issue: QuoteIssue | undefined
  issueMessage: string
}

export interface CartQuote {
  chosen: RewardQuote[]
  suggestions: RewardQuote[]
  totalDiscount: Money
  pointsRequired: number
  balance: number
  tier: Tier
}

/** What happened to an account, as the outbox publishes it (events/loyalty-events.ts). */
export type LoyaltyChange =
  | { kind: 'opened'; account: Account }
  | { kind: 'closed'; account: Account; reason: string }
  | { kind: 'entry'; account: Account; entry: LedgerEntry; tierBefore: Tier; redemption?: Redemption; expiry?: ExpiryInfo }
  | { kind: 'tier_changed'; account: Account; previousTier: Tier; tier: Tier; entry: LedgerEntry }
  | { kind: 'reward_available'; account: Account; reward: Reward }

export interface ExpiryInfo {
  period: string
  inactiveSince: Date
  inactivityDays: number
  expiredAt: Date
}
