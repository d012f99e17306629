import type { Insertable, Kysely } from 'kysely'
import { columnsOf, reusableStatement } from '@brewmesh/runtime/db'
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
    // Any conflict: the customer's request id, or the id derived from it (a concurrent retry inserted first).
    insert: reusableStatement(
      (p: NewOrderRow) =>
        db
          .insertInto('orders')
          .values(p)
          .onConflict((oc) => oc.doNothing())
          .returning('id'),
      NEW_ORDER,
    ),
  }
}
