import { sql, type Kysely } from 'kysely'

// Group orders: an order's facts are kept per customer, one for the payer and one for every member
// with a drink in it, so each member's statistics count the drinks that were theirs. Facts
// recorded before this migration stay whole with the payer until their order's next event
// rewrites them (every order event carries the whole order).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table order_facts drop constraint order_facts_pkey`.execute(db)
  // Led by customer_id, the key also serves a rollup's read of a customer's facts.
  await sql`alter table order_facts add constraint order_facts_pkey primary key (customer_id, order_id)`.execute(db)
  await sql`drop index order_facts_by_customer`.execute(db)
}
