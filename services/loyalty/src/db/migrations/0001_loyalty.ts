import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('customer_id', 'uuid', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'closed')`))
    // The invariant the whole service keeps: the balance never goes negative.
    .addColumn('balance', 'bigint', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`balance >= 0`),
    )
    .addColumn('reserved_points', 'bigint', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`reserved_points >= 0`),
    )
    .addColumn('lifetime_points', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
    .addColumn('last_activity_at', 'timestamptz')
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('closed_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await sql`create index accounts_expiry on accounts (last_activity_at) where status = 'open' and balance > 0`.execute(db)

  await db.schema
    .createTable('ledger_entries')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('customer_id', 'uuid', (c) => c.notNull().references('accounts.customer_id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('points', 'bigint', (c) => c.notNull())
    .addColumn('balance_after', 'bigint', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('redemption_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('batch_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('earn_basis_minor', 'bigint')
    .addColumn('earn_basis_currency', 'text')
    .addColumn('multiplier_percent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reverses_entry_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('request_hash', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    // Each entry is tied to its source so it is applied once.
    .addUniqueConstraint('ledger_entries_source', ['customer_id', 'kind', 'source_id'])
    .execute()
  await sql`create index ledger_entries_by_customer on ledger_entries (customer_id, created_at desc, id desc)`.execute(db)
  // Append-only: entries are never changed or deleted.
  await sql`create function ledger_entries_append_only() returns trigger language plpgsql as $$
    begin raise exception 'ledger entries are append-only'; end $$`.execute(db)
  await sql`create trigger ledger_entries_append_only before update or delete on ledger_entries
    for each row execute function ledger_entries_append_only()`.execute(db)

  await db.schema
    .createTable('rewards')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('free_drink', 'amount_off', 'percent_off')`))
    .addColumn('cost_points', 'bigint', (c) => c.notNull().check(sql`cost_points > 0`))
    .addColumn('currency_code', 'text', (c) => c.notNull().defaultTo('USD'))
    .addColumn('amount_off_minor', 'bigint')
    .addColumn('percent_off', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_discount_minor', 'bigint')
    .addColumn('eligible_categories', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('eligible_menu_item_ids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('min_subtotal_minor', 'bigint')
    .addColumn('min_tier', 'text')
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('redemptions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('customer_id', 'uuid', (c) => c.notNull().references('accounts.customer_id'))
    .addColumn('reward_id', 'uuid', (c) => c.notNull().references('rewards.id'))
    .addColumn('reward_name', 'text', (c) => c.notNull())
    .addColumn('reward_kind', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('points', 'bigint', (c) => c.notNull())
    .addColumn('discount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency_code', 'text', (c) => c.notNull())
    .addColumn('line_ids', sql`text[]`, (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('reserved', 'confirmed', 'released')`))
    .addColumn('request_id', 'text', (c) => c.notNull().unique())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('release_reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('reserved_at', 'timestamptz', (c) => c.notNull())
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('released_at', 'timestamptz')
    .execute()
  await db.schema.createIndex('redemptions_by_order').on('redemptions').columns(['order_id', 'reserved_at']).execute()
  await sql`create index redemptions_reserved on redemptions (customer_id) where state = 'reserved'`.execute(db)
  await sql`create index redemptions_request_prefix on redemptions (request_id text_pattern_ops)`.execute(db)

  await db.schema
    .createTable('order_states')
    .addColumn('order_id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'uuid', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('placed', 'completed', 'cancelled')`))
    .addColumn('earn_entry_id', 'uuid')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('reward_notifications')
    .addColumn('customer_id', 'uuid', (c) => c.notNull())
    .addColumn('reward_id', 'uuid', (c) => c.notNull())
    .addColumn('entry_id', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('reward_notifications_pk', ['customer_id', 'reward_id', 'entry_id'])
    .execute()

  // The outbox and processed-event tables, as runtime's createOutboxTables made them when this
  // migration was written: an applied migration never changes because shared code did.
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

  // The starting catalog (ids fixed so every environment and the README agree).
  await sql`insert into rewards (id, name, description, kind, cost_points, amount_off_minor, percent_off, max_discount_minor,
      eligible_categories, min_subtotal_minor, min_tier) values
    ('7a1c3e10-0001-4a6b-9d1e-3f2a1b000001', 'Free drink of any size', 'The most expensive drink in the cart is on us.', 'free_drink', 1500, null, 0, null, '{}', null, null),
    ('7a1c3e10-0002-4a6b-9d1e-3f2a1b000002', '1.00 off', 'One dollar off the order.', 'amount_off', 400, 100, 0, null, '{}', null, null),
    ('7a1c3e10-0003-4a6b-9d1e-3f2a1b000003', '10 % off', 'Ten percent off the order, up to 5.00.', 'percent_off', 800, null, 10, 500, '{}', 1000, null),
    ('7a1c3e10-0004-4a6b-9d1e-3f2a1b000004', 'Free pastry', 'One bakery item free.', 'free_drink', 1000, null, 0, null, '{bakery}', null, null),
    ('7a1c3e10-0005-4a6b-9d1e-3f2a1b000005', 'Gold: 25 % off', 'A quarter off for Gold members, up to 10.00.', 'percent_off', 2500, null, 25, 1000, '{}', null, 'gold')`.execute(
    db,
  )
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'processed_events',
    'outbox',
    'reward_notifications',
    'order_states',
    'redemptions',
    'rewards',
    'ledger_entries',
    'accounts',
  ]) {
    await db.schema.dropTable(table).ifExists().execute()
  }
  await sql`drop function if exists ledger_entries_append_only()`.execute(db)
}
