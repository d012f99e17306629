import { sql, type Kysely } from 'kysely'
import { MenuItem } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { createOutboxTables } from '@brewmesh/runtime/db/outbox.ts'
import { MENU_SEED } from '../menu-seed.ts'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('menu_items')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('sort_order', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('doc', 'jsonb', (c) => c.notNull())
    .execute()
  const now = new Date()
  for (const item of MENU_SEED) {
    const doc = MenuItem.toJSON({ ...item, createdAt: now, updatedAt: now })
    await sql`insert into menu_items (id, category, sort_order, name, doc) values (${item.id}, ${item.category}, ${item.sortOrder}, ${item.name}, ${JSON.stringify(doc)})`.execute(
      db,
    )
  }

  await db.schema
    .createTable('orders')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull().unique())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'uuid', (c) => c.notNull())
    .addColumn('household_id', 'uuid')
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('barista_id', 'text')
    .addColumn('placed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('paid_at', 'timestamptz')
    .addColumn('payment_status', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('doc', 'jsonb', (c) => c.notNull())
    .execute()
  await sql`create index orders_by_customer on orders (customer_id, placed_at desc, id desc)`.execute(db)
  await sql`create index orders_by_household on orders (household_id, placed_at desc, id desc) where household_id is not null`.execute(db)
  await sql`create index orders_by_status on orders (status, placed_at desc, id desc)`.execute(db)
  // The barista queue: paid (or released while preparing) and unclaimed, oldest payment first.
  await sql`create index orders_queue on orders (paid_at, id) where status in (2, 3) and barista_id is null`.execute(db)
  await sql`create index orders_pending_payment on orders (placed_at) where payment_status = 1`.execute(db)

  await createOutboxTables(db)
}
