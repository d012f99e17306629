import type { ColumnType, Generated } from 'kysely'
import type { OutboxTable, ProcessedEventsTable } from '@brewmesh/runtime/db'

/** Tables of the loyalty schema, as kysely sees them. bigint columns read as strings. */
export interface LoyaltyDb {
  accounts: AccountsTable
  ledger_entries: LedgerEntriesTable
  rewards: RewardsTable
  redemptions: RedemptionsTable
  order_states: OrderStatesTable
  reward_notifications: RewardNotificationsTable
  outbox: OutboxTable
  processed_events: ProcessedEventsTable
}

type BigInt = ColumnType<string, number, number>
type NullableBigInt = ColumnType<string | null, number | null, number | null>

export interface AccountsTable {
  customer_id: string
  status: 'open' | 'closed'
  balance: BigInt
  reserved_points: BigInt
  lifetime_points: BigInt
  version: BigInt
  last_activity_at: Date | null
  opened_at: Date
  closed_at: Date | null
  updated_at: Date
}

export interface LedgerEntriesTable {
  id: string
  customer_id: string
  kind: string
  points: BigInt
  balance_after: BigInt
  source_id: string
  order_id: string
  redemption_id: string
  batch_id: string
  reason: string
  actor_kind: string
  actor_id: string
  earn_basis_minor: NullableBigInt
  earn_basis_currency: string | null
  multiplier_percent: number
  reverses_entry_id: string
  request_hash: string
  created_at: Date
}

export interface RewardsTable {
  id: string
  name: string
  description: string
  kind: string
  cost_points: BigInt
  currency_code: string
  amount_off_minor: NullableBigInt
  percent_off: number
  max_discount_minor: NullableBigInt
  eligible_categories: string[]
  eligible_menu_item_ids: string[]
  min_subtotal_minor: NullableBigInt
  min_tier: string | null
  active: boolean
  created_at: Generated<Date>
  updated_at: Generated<Date>
}

export interface RedemptionsTable {
  id: string
  customer_id: string
  reward_id: string
  reward_name: string
  reward_kind: string
  order_id: string
  points: BigInt
  discount_minor: BigInt
  currency_code: string
  line_ids: string[]
  state: string
  request_id: string
  request_hash: string
  release_reason: string
  reserved_at: Date
  /** When a placement last asked for it (reserved, or got back by a retry): the hold counts from here. */
  claimed_at: Date
  /** 1 when reserved, one more per retry that got it back (ReleaseRedemptions may name it). */
  claim: number
  confirmed_at: Date | null
  released_at: Date | null
  /** Given back by a placement that failed: history only, its request_id free again. */
  voided: Generated<boolean>
}

export interface OrderStatesTable {
  order_id: string
  customer_id: string
  state: 'placed' | 'completed' | 'cancelled'
  earn_entry_id: string | null
  updated_at: Date
}

export interface RewardNotificationsTable {
  customer_id: string
  reward_id: string
  entry_id: string
  created_at: Generated<Date>
}
