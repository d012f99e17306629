import { sql, type Kysely } from 'kysely'

// Frozen, like every migration: it imports no live code.
//
// What placing an order needs to know of a customer (name, household, active), as the Order
// Service last heard it: from the customer events topic (consumer order-customer-facts) or, for a
// customer it had not heard of yet, from the Customer service's answer. A row changes only to a
// higher version, and never once the customer was deleted (the deletion is a customer's last
// version), so events applied late or twice change nothing.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table customer_facts (
      customer_id uuid primary key,
      display_name text not null,
      household_id uuid,
      active boolean not null,
      deleted boolean not null default false,
      version integer not null,
      heard_at timestamptz not null default now()
    )`.execute(db)
}
