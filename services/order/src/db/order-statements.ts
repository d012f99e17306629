import { CompiledQuery, type Insertable, type Kysely } from 'kysely'
import { columnsOf, outboxInsert, outboxValues, reusableStatement, type OutboxMessage } from '@brewmesh/runtime/db'
import type { OrderDb, OrdersTable } from './schema.ts'

/** The columns an order's state is stored in (order-store.ts orderRow); the rest is set once, at insert. */
export type OrderRow = Omit<NewOrderRow, 'request_id' | 'request_hash' | 'traceparent'>
type NewOrderRow = Required<Insertable<OrdersTable>>

const ORDER = columnsOf<OrderRow>()([
  'id',
  'customer_id',
  'household_id',
  'status',
  'barista_id',
  'placed_at',
  'paid_at',
  'payment_status',
  'version',
  'doc',
])
const NEW_ORDER = columnsOf<NewOrderRow>()([...ORDER, 'request_id', 'request_hash', 'traceparent'])

/**
 * A new order and its event in one statement: the order row (nothing on any conflict: the
 * customer's request id, or the id derived from it) and, only when it was inserted, its outbox row
 * and the relay's wake-up (runtime db/outbox.ts outboxInsert, as enqueue). A statement is atomic
 * on its own: one round trip where begin, insert, enqueue and commit took four. It answers a row
 * when the order was inserted.
 */
const PLACE = `
  with placed as (
    insert into orders (${NEW_ORDER.join(', ')}) values (${NEW_ORDER.map((_, i) => `$${i + 1}`).join(', ')})
    on conflict do nothing
    returning id
  ), added as (
    ${outboxInsert(NEW_ORDER.length + 1)}
    where exists (select from placed)
    returning id
  )
  select pg_notify($${NEW_ORDER.length + 5}::text, '') as notified from added`

/**
 * The statements of every placement and payment, built and compiled once (runtime's
 * reusableStatement); order-store.ts runs them. Statements whose shape depends on their values
 * (the order listings' filters) stay builder calls there.
 */
export function orderStatements(db: Kysely<OrderDb>) {
  return {
    order: reusableStatement((p: { id: string }) => db.selectFrom('orders').select('doc').where('id', '=', p.id)),
    lockedOrder: reusableStatement((p: { id: string }) => db.selectFrom('orders').select('doc').where('id', '=', p.id).forUpdate()),
    byRequestId: reusableStatement((p: { customer_id: string; request_id: string }) =>
      db
        .selectFrom('orders')
        .select(['doc', 'request_hash'])
        .where('customer_id', '=', p.customer_id)
        .where('request_id', '=', p.request_id),
    ),
    /** Inserts a new order with its event (PLACE); false when another order holds its request id or id. */
    async place(row: NewOrderRow, event: OutboxMessage, channel: string): Promise<boolean> {
      const values = [...NEW_ORDER.map((column) => row[column]), ...outboxValues([event]), channel]
      return (await db.executeQuery(CompiledQuery.raw(PLACE, values))).rows.length > 0
    },
  }
}
