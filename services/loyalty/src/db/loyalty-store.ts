import { sql, type Kysely, type Transaction } from 'kysely'
import { snapshot } from '@brewmesh/runtime/cache'
import { claimEvents, enqueue, outboxChannel, type OutboxMessage } from '@brewmesh/runtime/db'
import type { LoyaltyChange } from '../domain/model.ts'
import type { LoyaltyStore, LoyaltyTx, OrderState } from '../domain/ports.ts'
import { concurrentModification } from '../domain/reasons.ts'
import { accountOfContext, loyaltyStatements } from './loyalty-statements.ts'
import { accountRow, entryRow, redemptionRow, toAccount, toEntry, toRedemption, toReward } from './rows.ts'
import type { LoyaltyDb } from './schema.ts'

// The partial indexes on reserved redemptions (redemptions_reserved, redemptions_held) serve a
// prepared statement's generic plan only when the statement names their predicate in its text: a
// literal, never a parameter.
const RESERVED = sql.lit('reserved')

// A serialization failure or a deadlock: a concurrent write that won, ABORTED with its reason.
const PG_CONCURRENT = new Set(['40001', '40P01'])
const concurrent = (err: unknown) => err instanceof Error && PG_CONCURRENT.has(String((err as { code?: unknown }).code))
const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** PostgreSQL implementation of the domain's store; events go to the outbox in the same transaction. */
export function loyaltyStore(
  db: Kysely<LoyaltyDb>,
  schema: string,
  toOutbox: (change: LoyaltyChange) => OutboxMessage,
  catalogTtlMs = 30_000,
): LoyaltyStore {
  // The catalog is seeded by migration and read by every redemption and quote: kept per process,
  // re-read every catalogTtlMs so an operator's edit still shows.
  const catalog = snapshot(
    async () => (await db.selectFrom('rewards').selectAll().orderBy('cost_points').orderBy('name').orderBy('id').execute()).map(toReward),
    catalogTtlMs,
  )
  const run = loyaltyStatements(db)
  const txFor = (trx: Transaction<LoyaltyDb>): LoyaltyTx => ({
    async account(customerId, lock) {
      const [row] = await (lock ? run.lockedAccount : run.account)(trx, { customer_id: customerId })
      return row && toAccount(row)
    },
    async lockAccounts(customerIds) {
      if (customerIds.length === 0) return new Set()
      // Locked as they are returned, so in id order. One array parameter: one text whatever the number.
      const { rows } = await sql<{ customer_id: string }>`
        select customer_id from accounts where customer_id = any(${[...new Set(customerIds)]}::uuid[])
         order by customer_id for update`.execute(trx)
      return new Set(rows.map((r) => r.customer_id))
    },
    async insertAccount(account) {
      await run.insertAccount(trx, accountRow(account))
    },
    async updateAccount(account) {
      await run.updateAccount(trx, accountRow(account))
    },
    postEntry: (entry, account, changes, redemption) =>
      run.postEntry(
        trx,
        entryRow(entry),
        accountRow(account),
        changes.map(toOutbox),
        outboxChannel(schema),
        redemption && { row: redemptionRow(redemption.redemption), write: redemption.write },
      ),
    async entryBySource(customerId, kind, sourceId) {
      const row = await trx
        .selectFrom('ledger_entries')
        .selectAll()
        .where('customer_id', '=', customerId)
        .where('kind', '=', kind)
        .where('source_id', '=', sourceId)
        .executeTakeFirst()
      return row && toEntry(row)
    },
    async entry(id) {
      const [row] = await run.entry(trx, { id })
      return row && toEntry(row)
    },
    async redemptionsOfOrder(orderId) {
      return (await run.redemptionsOfOrder(trx, { order_id: orderId })).map(toRedemption)
    },
    async reservedRedemptions(customerId) {
      const rows = await trx
        .selectFrom('redemptions')
        .selectAll()
        .where('customer_id', '=', customerId)
        .where('state', '=', RESERVED)
        .orderBy('reserved_at')
        .forUpdate()
        .execute()
      return rows.map(toRedemption)
    },
    async redemptionContext(customerId, orderId, requestId) {
      const rows = await run.redemptionContext(trx, customerId, orderId, requestId ?? null)
      const first = rows[0]
      const state: OrderState | undefined =
        first?.os_order_id != null
          ? {
              orderId: first.os_order_id,
              customerId: first.os_customer_id!,
              state: first.os_state!,
              earnEntryId: first.os_earn_entry_id,
              updatedAt: first.os_updated_at!,
            }
          : undefined
      const redemptions = rows.flatMap((row) => (row.id === null ? [] : [toRedemption(row)]))
      return {
        account: first && toAccount(accountOfContext(first)),
        state,
        ofOrder: redemptions.filter((x) => x.orderId === orderId),
        byRequest: redemptions.find((x) => x.requestId === requestId),
      }
    },
    async redemptionsByRequestPrefix(prefix) {
      const rows = await trx
        .selectFrom('redemptions')
        .selectAll()
        .where('request_id', 'like', likePrefix(prefix))
        .where('voided', '=', false)
        .orderBy(sql`length(request_id)`)
        .orderBy('request_id')
        .forUpdate()
        .execute()
      return rows.map(toRedemption)
    },
    async insertRedemption(redemption) {
      await run.insertRedemption(trx, redemptionRow(redemption))
    },
    async claimRedemptions(ids, at) {
      if (ids.length > 0)
        await trx
          .updateTable('redemptions')
          .set((eb) => ({ claimed_at: at, claim: eb('claim', '+', 1) }))
          .where('id', 'in', ids)
          .where('state', '=', 'reserved')
          .execute()
    },
    async voidRedemptions(ids) {
      if (ids.length > 0) await trx.updateTable('redemptions').set({ voided: true }).where('id', 'in', ids).execute()
    },
    async orderState(orderId) {
      const [row] = await run.orderState(trx, { order_id: orderId })
      return (
        row && {
          orderId: row.order_id,
          customerId: row.customer_id,
          state: row.state,
          earnEntryId: row.earn_entry_id,
          updatedAt: row.updated_at,
        }
      )
    },
    async saveOrderState(s: OrderState) {
      await run.saveOrderState(trx, {
        order_id: s.orderId,
        customer_id: s.customerId,
        state: s.state,
        earn_entry_id: s.earnEntryId,
        updated_at: s.updatedAt,
      })
    },
    async markPlaced(orders, at) {
      if (orders.length === 0) return
      await sql`
        insert into order_states (order_id, customer_id, state, earn_entry_id, updated_at)
        select o.order_id, o.customer_id, 'placed', null, ${at}
          from unnest(${orders.map((o) => o.orderId)}::text[], ${orders.map((o) => o.customerId)}::uuid[]) as o(order_id, customer_id)
        on conflict (order_id) do nothing`.execute(trx)
    },
    claimEvents: (consumer, items, eventIdOf) => claimEvents(trx, consumer, items, eventIdOf),
    async claimNotification(customerId, rewardId, entryId) {
      return (await run.claimNotification(trx, { customer_id: customerId, reward_id: rewardId, entry_id: entryId })).length > 0
    },
    async record(change) {
      await enqueue(trx, schema, [toOutbox(change)])
    },
  })

  return {
    transaction: (work) =>
      db
        .transaction()
        .execute((trx) => work(txFor(trx)))
        .catch((err: unknown) => {
          throw concurrent(err) ? concurrentModification('a concurrent write to the account won; retry', err) : err
        }),
    async account(customerId) {
      const [row] = await run.account(db, { customer_id: customerId })
      return row && toAccount(row)
    },
    async entries(query) {
      let q = db.selectFrom('ledger_entries').selectAll().where('customer_id', '=', query.customerId)
      if (query.kinds.length > 0) q = q.where('kind', 'in', query.kinds)
      if (query.orderId) q = q.where('order_id', '=', query.orderId)
      if (query.createdAfter) q = q.where('created_at', '>=', query.createdAfter)
      if (query.createdBefore) q = q.where('created_at', '<', query.createdBefore)
      if (query.before) {
        const { createdAt, id } = query.before
        q = q.where((eb) => eb(eb.refTuple('created_at', sql<string>`id::text`), '<', eb.tuple(createdAt, id)))
      }
      const rows = await q
        .orderBy('created_at', 'desc')
        .orderBy(sql`id::text`, 'desc')
        .limit(query.limit)
        .execute()
      return rows.map(toEntry)
    },
    async entry(id) {
      const [row] = await run.entry(db, { id })
      return row && toEntry(row)
    },
    rewards: catalog,
    async strandedRedemptions(claimedBefore, limit) {
      const rows = await db
        .selectFrom('redemptions')
        .selectAll()
        .where('state', '=', RESERVED)
        .where('voided', '=', sql.lit(false))
        .where('claimed_at', '<', claimedBefore)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('order_states').select('order_id').whereRef('order_states.order_id', '=', 'redemptions.order_id'))),
        )
        .orderBy('claimed_at')
        .limit(limit)
        .execute()
      return rows.map(toRedemption)
    },
    async inactiveAccounts(cutoff, limit) {
      const rows = await db
        .selectFrom('accounts')
        .select('customer_id')
        .where('status', '=', 'open')
        .where('balance', '>', 0 as never)
        .where('last_activity_at', '<', cutoff)
        .orderBy('last_activity_at')
        .limit(limit)
        .execute()
      return rows.map((r) => r.customer_id)
    },
  }
}
