import { sql, type Kysely } from 'kysely'

// Frozen, like every migration: it imports no live code.
//
// An idempotency key is its customer's own: unique per (customer_id, request_id), no longer across
// every customer, so one customer's key never refuses another's order. The new index also serves
// the lookup of a retry (by customer and key). Existing rows already satisfy it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create unique index orders_by_request on orders (customer_id, request_id)`.execute(db)
  await sql`alter table orders drop constraint orders_request_id_key`.execute(db)
}
