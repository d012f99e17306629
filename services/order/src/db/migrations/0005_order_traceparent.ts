import { sql, type Kysely } from 'kysely'

// Frozen, like every migration: it imports no live code.
//
// Payments are answered by a loop over due orders (no longer a BullMQ job per order, whose data
// carried the trace): the order keeps the traceparent of its placement, so its payment continues
// that trace. Null when the placement was not traced. The partial index orders_pending_payment
// (0001) already serves "pending, placed before".
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table orders add column traceparent text`.execute(db)
}
