import { sql, type Kysely } from 'kysely'

// Order statistics (issue 6): facts from the order events, the monthly aggregates older facts are
// archived into, and each customer's last rollup.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('order_facts')
    .addColumn('order_id', 'uuid', (c) => c.primaryKey())
    .addColumn('customer_id', 'uuid', (c) => c.notNull())
    .addColumn('placed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('spent_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('drinks', 'jsonb', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await sql`create index order_facts_by_customer on order_facts (customer_id)`.execute(db)
  await sql`create index order_facts_by_placed on order_facts (placed_at)`.execute(db)

  await db.schema
    .createTable('stats_archive')
    .addColumn('customer_id', 'uuid', (c) => c.notNull())
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('aggregate', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('stats_archive_pk', ['customer_id', 'month'])
    .execute()

  await db.schema
    .createTable('customer_stats')
    .addColumn('customer_id', 'uuid', (c) => c.primaryKey())
    .addColumn('stats', 'jsonb', (c) => c.notNull())
    .addColumn('computed_at', 'timestamptz', (c) => c.notNull())
    .execute()
}
