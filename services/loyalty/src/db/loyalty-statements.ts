import { CompiledQuery, type Kysely, type Selectable } from 'kysely'
import { columnsOf, outboxInsert, outboxValues, reusableStatement, type OutboxMessage } from '@brewmesh/runtime/db'
import type { accountRow, entryRow, redemptionRow } from './rows.ts'
import type { AccountsTable, LoyaltyDb, OrderStatesTable, RedemptionsTable } from './schema.ts'

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

const ACCOUNT_SET = ACCOUNT.filter((c) => c !== 'customer_id')
const REDEMPTION_SET = REDEMPTION.filter((c) => c !== 'id')

/** How a posting writes the redemption it is about, in its own statement: not at all, a new one, or its new state. */
export type RedemptionWrite = 'insert' | 'update'

/**
 * A ledger posting in one statement: the entry (nothing when the account has an entry of that kind
 * for that source: a retry or a redelivery), and only when it was appended, the account's new state
 * and the outbox rows of its events with the relay's wake-up (runtime db/outbox.ts outboxInsert,
 * as enqueue). One round trip where the insert, the update and the enqueue took three; it
 * answers a row when the entry was appended. Data-modifying CTEs all run to completion, and see
 * what the others return, not what they change: the update and the enqueue ask `appended`.
 *
 * With a redemption write, the redemption the entry is about is inserted or updated in the same
 * statement, whether or not the entry was appended (as when it was a statement of its own before
 * the posting: a caller whose entry was there rolls back or leaves the redemption as written).
 * Nothing else in the statement reads or writes redemptions.
 */
function postEntryStatement(write?: RedemptionWrite): string {
  let n = 0
  const next = () => `$${++n}`
  const entry = ENTRY.map(next)
  const account = ACCOUNT_SET.map((c) => `${c} = ${next()}`)
  const customer = next()
  const events = outboxInsert(n + 1)
  n += 4 // its four arrays
  const channel = next()
  const redemption =
    write === 'insert'
      ? `written as (insert into redemptions (${REDEMPTION.join(', ')}) values (${REDEMPTION.map(next).join(', ')})),`
      : write === 'update'
        ? `written as (update redemptions set ${REDEMPTION_SET.map((c) => `${c} = ${next()}`).join(', ')} where id = ${next()}),`
        : ''
  return `
  with ${redemption} appended as (
    insert into ledger_entries (${ENTRY.join(', ')}) values (${entry.join(', ')})
    on conflict on constraint ledger_entries_source do nothing
    returning id
  ), account as (
    update accounts set ${account.join(', ')}
    where customer_id = ${customer} and exists (select from appended)
  ), added as (
    ${events}
    where exists (select from appended)
    returning id
  )
  select (select pg_notify(${channel}::text, '') from added limit 1) as notified from appended`
}
const POST_ENTRY = { none: postEntryStatement(), insert: postEntryStatement('insert'), update: postEntryStatement('update') }

/**
 * What a redemption for an order checks, in one read and all locked: the customer's account
 * (columns `acc_*`; no row at all when there is none), the order's state (columns `os_*`, null
 * when it has none), and its redemptions that are not voided with, when `$2` is not null, the one
 * made under that request id (of whichever order), one row each (a single row of nulls when there
 * are none). Row locks are taken in subqueries; the joins only gather. The account is locked first,
 * as every other path of the service does (one writer per account, no lock cycles): the later
 * subqueries refer to its row, so they run inside the loop over it, after its lock.
 *
 * The redemptions are two lookups, one per index (by order, by live request id), not one `or`. A
 * connection plans a prepared statement for good after its first few runs, often while the table
 * is new and never analyzed; for `order_id = $1 or request_id = $2` that plan was a sequential
 * scan, kept while the table grew until autovacuum analyzed it: 1.2 ms of PostgreSQL's CPU a
 * redemption with 6,000 in the table (bench/README.md, place-order, twentieth session). An
 * equality on one indexed column is an index scan whatever the table's size.
 */
const REDEMPTION_CONTEXT = `
  select ${ACCOUNT.map((c) => `a.${c} as acc_${c}`).join(', ')},
         s.order_id as os_order_id, s.customer_id as os_customer_id, s.state as os_state,
         s.earn_entry_id as os_earn_entry_id, s.updated_at as os_updated_at, r.*
    from (select * from accounts where customer_id = $3 for update) a
    left join lateral (
      select * from order_states where order_id = $1 and a.customer_id is not null for update
    ) s on true
    left join lateral (
      select * from (
        select * from redemptions where order_id = $1 and not voided and a.customer_id is not null for update
      ) of_order
      union all
      select * from (
        select * from redemptions
         where request_id = $2 and order_id <> $1 and not voided and a.customer_id is not null for update
      ) of_request
    ) r on true
   order by r.reserved_at, r.request_id`

type Nulls<T> = { [K in keyof T]: null }
type Prefixed<T, P extends string> = { [K in keyof T as `${P}${K & string}`]: T[K] }

/** A row of REDEMPTION_CONTEXT: the account, the order's state, and a redemption (its columns null when none). */
export type RedemptionContextRow = Prefixed<Selectable<AccountsTable>, 'acc_'> &
  (Selectable<RedemptionsTable> | Nulls<Selectable<RedemptionsTable>>) & {
    os_order_id: string | null
    os_customer_id: string | null
    os_state: OrderStatesTable['state'] | null
    os_earn_entry_id: string | null
    os_updated_at: Date | null
  }

/** The account of a REDEMPTION_CONTEXT row, its columns named as in the table. */
export const accountOfContext = (row: RedemptionContextRow) =>
  Object.fromEntries(ACCOUNT.map((c) => [c, row[`acc_${c}`]])) as Selectable<AccountsTable>

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
    insertRedemption: reusableStatement((p: RedemptionRow) => db.insertInto('redemptions').values(p), REDEMPTION),
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
    /**
     * In the caller's transaction, appends the entry and, only then, stores the account and enqueues
     * the events (POST_ENTRY), writing the redemption first when given; false when the entry was there.
     */
    async postEntry(
      executor: Kysely<LoyaltyDb>,
      entry: EntryRow,
      account: AccountRow,
      events: readonly OutboxMessage[],
      channel: string,
      redemption?: { row: RedemptionRow; write: RedemptionWrite },
    ): Promise<boolean> {
      const values = [
        ...ENTRY.map((column) => entry[column]),
        ...ACCOUNT_SET.map((column) => account[column]),
        account.customer_id,
        ...outboxValues(events),
        channel,
      ]
      if (redemption?.write === 'insert') values.push(...REDEMPTION.map((column) => redemption.row[column]))
      if (redemption?.write === 'update') values.push(...REDEMPTION_SET.map((column) => redemption.row[column]), redemption.row.id)
      const text = POST_ENTRY[redemption?.write ?? 'none']
      return (await executor.executeQuery(CompiledQuery.raw(text, values))).rows.length > 0
    },
    /** In the caller's transaction: the account, the order's state and redemptions, and a request's redemption, all locked (REDEMPTION_CONTEXT). */
    async redemptionContext(
      executor: Kysely<LoyaltyDb>,
      customerId: string,
      orderId: string,
      requestId: string | null,
    ): Promise<RedemptionContextRow[]> {
      return (await executor.executeQuery<RedemptionContextRow>(CompiledQuery.raw(REDEMPTION_CONTEXT, [orderId, requestId, customerId])))
        .rows
    },
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
