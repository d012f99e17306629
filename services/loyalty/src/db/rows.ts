import type { Selectable } from 'kysely'
import type { Account, EntryKind, LedgerEntry, Redemption, Reward, RewardKind, Tier } from '../domain/model.ts'
import type { AccountsTable, LedgerEntriesTable, RedemptionsTable, RewardsTable } from './schema.ts'

/** Between domain objects and table rows (bigint columns read as strings). */

const num = (v: string | number) => Number(v)

export function toAccount(row: Selectable<AccountsTable>): Account {
  return {
    customerId: row.customer_id,
    status: row.status,
    balance: num(row.balance),
    reserved: num(row.reserved_points),
    lifetime: num(row.lifetime_points),
    version: num(row.version),
    lastActivityAt: row.last_activity_at,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    updatedAt: row.updated_at,
  }
}

export function accountRow(a: Account) {
  return {
    customer_id: a.customerId,
    status: a.status,
    balance: a.balance,
    reserved_points: a.reserved,
    lifetime_points: a.lifetime,
    version: a.version,
    last_activity_at: a.lastActivityAt,
    opened_at: a.openedAt,
    closed_at: a.closedAt,
    updated_at: a.updatedAt,
  }
}

export function toEntry(row: Selectable<LedgerEntriesTable>): LedgerEntry {
  return {
    id: row.id,
    customerId: row.customer_id,
    kind: row.kind as EntryKind,
    points: num(row.points),
    balanceAfter: num(row.balance_after),
    sourceId: row.source_id,
    orderId: row.order_id,
    redemptionId: row.redemption_id,
    batchId: row.batch_id,
    reason: row.reason,
    actor: { kind: row.actor_kind as LedgerEntry['actor']['kind'], id: row.actor_id },
    earnBasis: row.earn_basis_minor === null ? null : { amountMinor: num(row.earn_basis_minor), currency: row.earn_basis_currency ?? '' },
    multiplierPercent: row.multiplier_percent,
    reversesEntryId: row.reverses_entry_id,
    requestHash: row.request_hash,
    createdAt: row.created_at,
  }
}

export function entryRow(e: LedgerEntry) {
  return {
    id: e.id,
    customer_id: e.customerId,
    kind: e.kind,
    points: e.points,
    balance_after: e.balanceAfter,
    source_id: e.sourceId,
    order_id: e.orderId,
    redemption_id: e.redemptionId,
    batch_id: e.batchId,
    reason: e.reason,
    actor_kind: e.actor.kind,
    actor_id: e.actor.id,
    earn_basis_minor: e.earnBasis?.amountMinor ?? null,
    earn_basis_currency: e.earnBasis?.currency ?? null,
    multiplier_percent: e.multiplierPercent,
    reverses_entry_id: e.reversesEntryId,
    request_hash: e.requestHash,
    created_at: e.createdAt,
  }
}

export function toReward(row: Selectable<RewardsTable>): Reward {
  const money = (minor: string | null) => (minor === null ? null : { amountMinor: num(minor), currency: row.currency_code })
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    kind: row.kind as RewardKind,
    costPoints: num(row.cost_points),
    amountOff: money(row.amount_off_minor),
    percentOff: row.percent_off,
    maxDiscount: money(row.max_discount_minor),
    eligibleCategories: row.eligible_categories,
    eligibleMenuItemIds: row.eligible_menu_item_ids,
    minSubtotal: money(row.min_subtotal_minor),
    minTier: row.min_tier as Tier | null,
    active: row.active,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

export function toRedemption(row: Selectable<RedemptionsTable>): Redemption {
  return {
    id: row.id,
    customerId: row.customer_id,
    rewardId: row.reward_id,
    rewardName: row.reward_name,
    rewardKind: row.reward_kind as RewardKind,
    orderId: row.order_id,
    points: num(row.points),
    discount: { amountMinor: num(row.discount_minor), currency: row.currency_code },
    lineIds: row.line_ids,
    state: row.state as Redemption['state'],
    requestId: row.request_id,
    requestHash: row.request_hash,
    releaseReason: row.release_reason,
    reservedAt: row.reserved_at,
    claimedAt: row.claimed_at,
    claim: row.claim,
    confirmedAt: row.confirmed_at,
    releasedAt: row.released_at,
  }
}

export function redemptionRow(r: Redemption) {
  return {
    id: r.id,
    customer_id: r.customerId,
    reward_id: r.rewardId,
    reward_name: r.rewardName,
    reward_kind: r.rewardKind,
    order_id: r.orderId,
    points: r.points,
    discount_minor: r.discount.amountMinor,
    currency_code: r.discount.currency,
    line_ids: r.lineIds,
    state: r.state,
    request_id: r.requestId,
    request_hash: r.requestHash,
    release_reason: r.releaseReason,
    reserved_at: r.reservedAt,
    claimed_at: r.claimedAt,
    claim: r.claim,
    confirmed_at: r.confirmedAt,
    released_at: r.releasedAt,
  }
}
