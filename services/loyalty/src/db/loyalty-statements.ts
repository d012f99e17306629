import type { Kysely } from 'kysely'
import { columnsOf, reusableStatement } from '@brewmesh/runtime/db'
import type { accountRow, entryRow, redemptionRow } from './rows.ts'
import type { LoyaltyDb, OrderStatesTable } from './schema.ts'

type AccountRow = ReturnType<typeof accountRow>
type EntryRow = ReturnType<typeof entryRow>
type RedemptionRow = ReturnType<typeof redemptionRow>

const ACCOUNT = columnsOf<AccountRow>()([
  'customer_id',
  'status',
  'balance',
  'reserved_points',
  'lifetime_points',
  'version',
  'last_activity_at',
  'opened_at',
  'closed_at',
  'updated_at',
])
const ENTRY = columnsOf<EntryRow>()([
  'id',
  'customer_id',
  'kind',
  'points',
  'balance_after',
  'source_id',
  'order_id',
  'redemption_id',
  'batch_id',
  'reason',
  'actor_kind',
  'actor_id',
  'earn_basis_minor',
  'earn_basis_currency',
  'multiplier_percent',
  'reverses_entry_id',
  'request_hash',
  'created_at',
])
const REDEMPTION = columnsOf<RedemptionRow>()([
  'id',
  'customer_id',
  'reward_id',
  'reward_name',
  'reward_kind',
  'order_id',
  'points',
  'discount_minor',
  'currency_code',
  'line_ids',
  'state',
  'request_id',
  'request_hash',
  'release_reason',
  'reserved_at',
  'claimed_at',
  'claim',
  'confirmed_at',
  'released_at',
])
const ORDER_STATE = columnsOf<OrderStatesTable>()(['order_id', 'customer_id', 'state', 'earn_entry_id', 'updated_at'])

/**
 * The statements every redemption and order event runs, built and compiled once (runtime's
 * reusableStatement); loyalty-store.ts runs them inside its transactions. Statements whose shape
 * depends on their values (an `in` list, a prefix search, the paged ledger) stay builder calls there.
 */
export function loyaltyStatements(db: Kysely<LoyaltyDb>) {
  return {
    account: reusableStatement((p: { customer_id: string }) =>
      db.selectFrom('accounts').selectAll().where('customer_id', '=', p.customer_id),
    ),
    lockedAccount: reusableStatement((p: { customer_id: string }) =>
      db.selectFrom('accounts').selectAll().where('customer_id', '=', p.customer_id).forUpdate(),
    ),
    insertAccount: reusableStatement((p: AccountRow) => db.insertInto('accounts').values(p), ACCOUNT),
    updateAccount: reusableStatement((p: AccountRow) => {
      const { customer_id, ...rest } = p
      return db.updateTable('accounts').set(rest).where('customer_id', '=', customer_id)
    }, ACCOUNT),
    insertEntry: reusableStatement(
      (p: EntryRow) =>
        db
          .insertInto('ledger_entries')
          .values(p)
          .onConflict((oc) => oc.constraint('ledger_entries_source').doNothing())
          .returning('id'),
      ENTRY,
    ),
    entry: reusableStatement((p: { id: string }) => db.selectFrom('ledger_entries').selectAll().where('id', '=', p.id)),
    redemptionsOfOrder: reusableStatement((p: { order_id: string }) =>
      db
        .selectFrom('redemptions')
        .selectAll()
        .where('order_id', '=', p.order_id)
        .where('voided', '=', false)
        .orderBy('reserved_at')
        .orderBy('request_id')
        .forUpdate(),
    ),
    redemptionByRequest: reusableStatement((p: { request_id: string }) =>
      db.selectFrom('redemptions').selectAll().where('request_id', '=', p.request_id).where('voided', '=', false),
    ),
    insertRedemption: reusableStatement((p: RedemptionRow) => db.insertInto('redemptions').values(p), REDEMPTION),
    updateRedemption: reusableStatement((p: RedemptionRow) => {
      const { id, ...rest } = p
      return db.updateTable('redemptions').set(rest).where('id', '=', id)
    }, REDEMPTION),
    orderState: reusableStatement((p: { order_id: string }) =>
      db.selectFrom('order_states').selectAll().where('order_id', '=', p.order_id).forUpdate(),
    ),
    saveOrderState: reusableStatement(
      (p: OrderStatesTable) =>
        db
          .insertInto('order_states')
          .values(p)
          .onConflict((oc) =>
            oc.column('order_id').doUpdateSet({ state: p.state, earn_entry_id: p.earn_entry_id, updated_at: p.updated_at }),
          ),
      ORDER_STATE,
    ),
    claimNotification: reusableStatement(
      (p: { customer_id: string; reward_id: string; entry_id: string }) =>
        db
          .insertInto('reward_notifications')
          .values(p)
          .onConflict((oc) => oc.doNothing())
          .returning('entry_id'),
      ['customer_id', 'reward_id', 'entry_id'],
    ),
  }
}
