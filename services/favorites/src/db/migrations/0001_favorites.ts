import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('customers')
    .addColumn('customer_id', 'uuid', (c) => c.primaryKey())
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pruned_through', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deleted_at', 'timestamptz')
    .execute()

  await db.schema
    .createTable('favorites')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('customer_id', 'uuid', (c) => c.notNull().references('customers.customer_id'))
    .addColumn('menu_item_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('customization', 'jsonb', (c) => c.notNull())
    .addColumn('drink_key', 'text', (c) => c.notNull())
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('created_revision', 'integer', (c) => c.notNull())
    .addColumn('pinned', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_by', 'jsonb', (c) => c.notNull())
    .addColumn('updated_from_device_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('removed_at', 'timestamptz')
    .addColumn('removal_reason', 'text', (c) => c.notNull().defaultTo(''))
    .execute()
  // The domain checks these under the customer's lock; the indexes keep them true whatever happens.
  await sql`create unique index favorites_one_drink on favorites (customer_id, drink_key) where removed_at is null`.execute(db)
  await sql`create unique index favorites_one_pin on favorites (customer_id) where pinned and removed_at is null`.execute(db)
  await sql`create index favorites_by_revision on favorites (customer_id, revision)`.execute(db)
  await sql`create index favorites_tombstones on favorites (removed_at) where removed_at is not null`.execute(db)

  await db.schema
    .createTable('add_requests')
    .addColumn('request_id', 'text', (c) => c.primaryKey())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('favorite_id', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('client_changes')
    .addColumn('customer_id', 'uuid', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('client_change_id', 'text', (c) => c.notNull())
    .addColumn('ack', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('client_changes_pk', ['customer_id', 'device_id', 'client_change_id'])
    .execute()

  await db.schema
    .createTable('drink_completions')
    .addColumn('customer_id', 'uuid', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('drink_key', 'text', (c) => c.notNull())
    .addColumn('menu_item_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('customization', 'jsonb', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('drink_completions_pk', ['customer_id', 'order_id', 'drink_key'])
    .execute()
  await sql`create index drink_completions_recent on drink_completions (customer_id, completed_at)`.execute(db)

  // The outbox and the processed-event ids, as runtime created them when this migration was
  // written: inlined, so later changes to shared code never change an applied migration.
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('payload', 'bytea', (c) => c.notNull())
    .addColumn('headers', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('published_at', 'timestamptz')
    .execute()
  await sql`create index outbox_pending on outbox (id) where published_at is null`.execute(db)
  await db.schema
    .createTable('processed_events')
    .addColumn('consumer', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('processed_events_pk', ['consumer', 'event_id'])
    .execute()
}
