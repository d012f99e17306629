import { sql, type Kysely, type Transaction } from 'kysely'
import { MenuItem as MenuItemMessage } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { snapshot } from '@brewmesh/runtime/cache'
import { enqueue, jsonbArray, outboxChannel, type OutboxMessage } from '@brewmesh/runtime/db'
import { currentTraceparent, inTraceOf } from '@brewmesh/runtime/telemetry'
import { QUEUED } from '../domain/lifecycle.ts'
import type { Order } from '../domain/order.ts'
import type { OrderChange, OrderStore, OrderTx } from '../domain/ports.ts'
import { menuItemFromProto, orderStatus, paymentStatus } from '../proto/order-mapper.ts'
import { orderFromDoc, orderToDoc } from './order-doc.ts'
import { orderStatements, type OrderRow } from './order-statements.ts'
import type { OrderDb } from './schema.ts'

// The status columns hold the contract's enum values (generated constants). The queue and the due
// payments are served by partial indexes (orders_queue, orders_pending_payment), so their statements
// name those values as literals: a prepared statement's generic plan can only use a partial index
// whose predicate it can prove from the statement's text, never from a parameter's value.
const QUEUED_STATUSES = QUEUED.map((s) => sql.lit(orderStatus.to(s)))
const HELD_STATUSES = (['preparing', 'ready'] as const).map(orderStatus.to)
const PENDING_PAYMENT = sql.lit(paymentStatus.to('pending'))

function orderRow(o: Order): OrderRow {
  return {
    id: o.id,
    customer_id: o.customerId,
    household_id: o.householdId || null,
    status: orderStatus.to(o.status),
    barista_id: o.baristaId || null,
    placed_at: o.entered.placed,
    paid_at: o.entered.paid ?? null,
    payment_status: paymentStatus.to(o.payment.status),
    version: o.version,
    doc: orderToDoc(o),
  }
}

/** Saves a barista's answer unless one is saved for the command already (false then). */
async function saveAnswer(db: Kysely<OrderDb>, baristaId: string, commandId: string, answer: Uint8Array): Promise<boolean> {
  const saved = await db
    .insertInto('barista_commands')
    .values({ barista_id: baristaId, command_id: commandId, answer: Buffer.from(answer) })
    .onConflict((oc) => oc.doNothing())
    .returning('command_id')
    .executeTakeFirst()
  return saved !== undefined
}

/**
 * Stores the new state of these orders with one statement: one array per column (the customer
 * never changes), so one text whatever the number of orders, a payment round's or a single one.
 * The documents go in PostgreSQL's binary array form (runtime db/binary-arrays.ts): as an array
 * literal, every quote of their JSON was escaped here and read back by PostgreSQL.
 */
async function updateAll(trx: Kysely<OrderDb>, orders: readonly Order[]): Promise<void> {
  if (orders.length === 0) return
  const rows = orders.map(orderRow)
  const column = <K extends keyof OrderRow>(key: K) => rows.map((r) => r[key])
  await sql`
    update orders o
       set household_id = v.household_id, status = v.status, barista_id = v.barista_id, placed_at = v.placed_at,
           paid_at = v.paid_at, payment_status = v.payment_status, version = v.version, doc = v.doc
      from unnest(${column('id')}::uuid[], ${column('household_id')}::uuid[], ${column('status')}::int[],
                  ${column('barista_id')}::text[], ${column('placed_at')}::timestamptz[], ${column('paid_at')}::timestamptz[],
                  ${column('payment_status')}::int[], ${column('version')}::int[], ${jsonbArray(column('doc'))}::jsonb[])
           as v(id, household_id, status, barista_id, placed_at, paid_at, payment_status, version, doc)
     where o.id = v.id`.execute(trx)
}

/** PostgreSQL implementation of the domain's store; events go to the outbox in the same transaction. */
export function orderStore(
  db: Kysely<OrderDb>,
  schema: string,
  toOutbox: (change: OrderChange) => OutboxMessage,
  menuTtlMs = 30_000,
): OrderStore {
  // Only migrations write menu items: a per-process snapshot saves a query per order line and
  // per ListMenuItems, and still picks up an edit within menuTtlMs. The catalog is kept in the
  // contract's JSON (MenuItem), as the first migration seeded it.
  const menu = snapshot(async () => {
    const rows = await db.selectFrom('menu_items').select('doc').orderBy('category').orderBy('sort_order').orderBy('name').execute()
    const items = rows.map((r) => menuItemFromProto(MenuItemMessage.fromJSON(r.doc)))
    return { items, byId: new Map(items.map((i) => [i.id, i])) }
  }, menuTtlMs)
  const run = orderStatements(db)
  // `recorded` collects the transaction's events, each built when recorded (so it carries the trace
  // it was recorded in); they go to the outbox in one statement just before the commit: a payment
  // round answering a hundred orders writes its events with one round trip, not a hundred.
  const txFor = (trx: Transaction<OrderDb>, recorded: OutboxMessage[]): OrderTx => ({
    saveCommandAnswer: (baristaId, commandId, answer) => saveAnswer(trx, baristaId, commandId, answer),
    async order(id, lock) {
      const [row] = await (lock ? run.lockedOrder : run.order)(trx, { id })
      return row && orderFromDoc(row.doc)
    },
    update: (order) => updateAll(trx, [order]),
    updateAll: (orders) => updateAll(trx, orders),
    async record(change) {
      recorded.push(toOutbox(change))
    },
    async duePayments(before, limit) {
      const rows = await trx
        .selectFrom('orders')
        .select(['doc', 'traceparent'])
        .where('payment_status', '=', PENDING_PAYMENT)
        .where('placed_at', '<=', before)
        .orderBy('placed_at')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute()
      return rows.map((r) => {
        const order = orderFromDoc(r.doc)
        return { value: order, inTrace: inTraceOf(r.traceparent, 'payment process', { 'brewmesh.order.id': order.id }) }
      })
    },
    async claimable(id) {
      // Row lock taken only on a claimable order; a concurrent claimer waits, then sees it claimed.
      const row = await trx
        .selectFrom('orders')
        .select('doc')
        .where('id', '=', id)
        .where('status', 'in', QUEUED_STATUSES)
        .where('barista_id', 'is', null)
        .forUpdate()
        .executeTakeFirst()
      if (!row) return undefined
      const order = orderFromDoc(row.doc)
      // Re-checked under the lock: the row may have been claimed while this transaction waited.
      return QUEUED.includes(order.status) && !order.baristaId ? order : undefined
    },
  })

  return {
    transaction: (work) =>
      db.transaction().execute(async (trx) => {
        const recorded: OutboxMessage[] = []
        const result = await work(txFor(trx, recorded))
        await enqueue(trx, schema, recorded)
        return result
      }),
    async place(order, requestHash, placed) {
      const row = {
        ...orderRow(order),
        request_id: order.requestId,
        request_hash: requestHash,
        // The placement's trace, for its payment later (processDuePayments).
        traceparent: currentTraceparent() ?? null,
      }
      if (await run.place(row, toOutbox(placed), outboxChannel(schema))) return undefined
      const [stored] = await run.byRequestId(db, { customer_id: order.customerId, request_id: order.requestId })
      if (!stored) throw new Error(`order ${order.id} conflicted on insert but its request id is not stored`)
      return { order: orderFromDoc(stored.doc), requestHash: stored.request_hash }
    },
    async order(id) {
      const [row] = await run.order(db, { id })
      return row && orderFromDoc(row.doc)
    },
    async byRequestId(customerId, requestId) {
      const [row] = await run.byRequestId(db, { customer_id: customerId, request_id: requestId })
      return row && { order: orderFromDoc(row.doc), requestHash: row.request_hash }
    },
    async orders(q) {
      let query = db.selectFrom('orders').select('doc')
      if (q.customerId) query = query.where('customer_id', '=', q.customerId)
      if (q.householdId) query = query.where('household_id', '=', q.householdId)
      if (q.statuses.length > 0) query = query.where('status', 'in', q.statuses.map(orderStatus.to))
      if (q.placedAfter) query = query.where('placed_at', '>=', q.placedAfter)
      if (q.placedBefore) query = query.where('placed_at', '<', q.placedBefore)
      if (q.after) query = query.where(sql<boolean>`(placed_at, id) < (${q.after.placedAt}, ${q.after.id}::uuid)`)
      const rows = await query.orderBy('placed_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute()
      return rows.map((r) => orderFromDoc(r.doc))
    },
    async queue(limit) {
      const rows = await db
        .selectFrom('orders')
        .select('doc')
        .where('status', 'in', QUEUED_STATUSES)
        .where('barista_id', 'is', null)
        .orderBy('paid_at')
        .orderBy('id')
        .limit(limit)
        .execute()
      return rows.map((r) => orderFromDoc(r.doc))
    },
    async claimedBy(baristaId) {
      const rows = await db
        .selectFrom('orders')
        .select('doc')
        .where('barista_id', '=', baristaId)
        .where('status', 'in', HELD_STATUSES)
        .orderBy('placed_at')
        .execute()
      return rows.map((r) => orderFromDoc(r.doc))
    },
    async menuItem(id) {
      return (await menu()).byId.get(id)
    },
    async menu() {
      return (await menu()).items
    },
    async commandAnswer(baristaId, commandId) {
      const row = await db
        .selectFrom('barista_commands')
        .select('answer')
        .where('barista_id', '=', baristaId)
        .where('command_id', '=', commandId)
        .executeTakeFirst()
      return row?.answer
    },
    saveCommandAnswer: (baristaId, commandId, answer) => saveAnswer(db, baristaId, commandId, answer),
    async purgeCommandAnswers(before) {
      const r = await db.deleteFrom('barista_commands').where('created_at', '<', before).executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}
