import { sql, type Kysely } from 'kysely'

// Frozen: everything this migration creates and inserts is written here, as it was when the
// migration was first applied. It imports no live code (no runtime helper, no seed module, no
// generated codec), so a later change elsewhere can never change what it does.

// The opening menu: ids fixed so docs, demos and tests can name drinks; prices in US cents. Each
// doc is a brewmesh.order.v1.MenuItem in its proto3 JSON form (enum names, int64 as strings,
// default values left out), as MenuItem.toJSON wrote it.
type Json = { [key: string]: unknown }
const usd = (cents: number): Json => (cents === 0 ? { currencyCode: 'USD' } : { amountMinor: String(cents), currencyCode: 'USD' })
const SIZES = [
  { size: 'DRINK_SIZE_SMALL', priceDelta: usd(-50), volumeMl: 240 },
  { size: 'DRINK_SIZE_MEDIUM', priceDelta: usd(0), volumeMl: 355 },
  { size: 'DRINK_SIZE_LARGE', priceDelta: usd(60), volumeMl: 470 },
]
const MILKS = [
  { milk: 'MILK_TYPE_WHOLE', surcharge: usd(0) },
  { milk: 'MILK_TYPE_SKIM', surcharge: usd(0) },
  { milk: 'MILK_TYPE_OAT', surcharge: usd(70) },
  { milk: 'MILK_TYPE_ALMOND', surcharge: usd(70) },
  { milk: 'MILK_TYPE_SOY', surcharge: usd(60) },
  { milk: 'MILK_TYPE_COCONUT', surcharge: usd(70) },
]
const NO_MILK = { milk: 'MILK_TYPE_NONE', surcharge: usd(0) }
const FREE_MILKS = [NO_MILK, ...MILKS.map((m) => ({ ...m, surcharge: usd(0) }))]
const SYRUPS = [
  { name: 'vanilla', displayName: 'Vanilla', surcharge: usd(60) },
  { name: 'caramel', displayName: 'Caramel', surcharge: usd(60) },
  { name: 'hazelnut', displayName: 'Hazelnut', surcharge: usd(60) },
  { name: 'sugar-free-vanilla', displayName: 'Sugar-free vanilla', surcharge: usd(60) },
]
const HOT = ['TEMPERATURE_HOT', 'TEMPERATURE_EXTRA_HOT', 'TEMPERATURE_WARM']
const recipe = (size: string | undefined, milk: string, temperature: string): Json => ({
  ...(size ? { size } : {}),
  milk,
  temperature,
})
const allowed = (milks: Json[], syrups: Json[], maxExtraShots: number, shotCents: number, temperatures: string[], maxSyrups: number) => ({
  ...(milks.length > 0 ? { milks } : {}),
  ...(syrups.length > 0 ? { syrups } : {}),
  ...(maxExtraShots > 0 ? { maxExtraShots } : {}),
  extraShotPrice: usd(shotCents),
  ...(temperatures.length > 0 ? { temperatures } : {}),
  sweetnessAdjustable: true,
  ...(maxSyrups > 0 ? { maxSyrups } : {}),
})
const espresso = (id: string, name: string, description: string, cents: number, sortOrder: number, milk = 'MILK_TYPE_WHOLE') => ({
  id,
  name,
  description,
  category: 'espresso',
  basePrice: usd(cents),
  sizes: SIZES,
  allowed: allowed(MILKS, SYRUPS, 4, 80, [...HOT, 'TEMPERATURE_ICED'], 3),
  defaultCustomization: recipe('DRINK_SIZE_MEDIUM', milk, 'TEMPERATURE_HOT'),
  available: true,
  sortOrder,
  tags: ['decaf-available'],
})
const ID = (n: string) => `6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f6${n}`

const MENU: Json[] = [
  espresso(ID('01'), 'Caffè Latte', 'Espresso with steamed milk and a thin layer of foam.', 450, 1),
  espresso(ID('02'), 'Cappuccino', 'Espresso, steamed milk and deep foam in equal parts.', 430, 2),
  espresso(ID('03'), 'Flat White', 'Two ristretto shots with velvety microfoam.', 460, 3),
  espresso(ID('04'), 'Caffè Mocha', 'Espresso, chocolate and steamed milk, topped with cocoa.', 495, 4),
  {
    ...espresso(ID('05'), 'Americano', 'Espresso lengthened with hot water.', 340, 5, 'MILK_TYPE_NONE'),
    allowed: allowed([NO_MILK, ...MILKS], SYRUPS, 4, 80, [...HOT, 'TEMPERATURE_ICED'], 2),
  },
  {
    ...espresso(ID('06'), 'Espresso', 'A double shot, pulled short.', 280, 6, 'MILK_TYPE_NONE'),
    sizes: undefined,
    allowed: { maxExtraShots: 2, extraShotPrice: usd(80) },
    defaultCustomization: recipe(undefined, 'MILK_TYPE_NONE', 'TEMPERATURE_HOT'),
  },
  {
    id: ID('07'),
    name: 'House Drip',
    description: 'Our medium roast, brewed fresh every 30 minutes.',
    category: 'brewed',
    basePrice: usd(275),
    sizes: SIZES,
    allowed: allowed(FREE_MILKS, SYRUPS, 0, 0, HOT, 2),
    defaultCustomization: recipe('DRINK_SIZE_MEDIUM', 'MILK_TYPE_NONE', 'TEMPERATURE_HOT'),
    available: true,
    sortOrder: 1,
    tags: ['decaf-available', 'dairy-free'],
  },
  {
    id: ID('08'),
    name: 'Cold Brew',
    description: 'Steeped for 18 hours, served over ice.',
    category: 'cold-brew',
    basePrice: usd(425),
    sizes: SIZES.slice(1),
    allowed: allowed([NO_MILK, ...MILKS], SYRUPS, 0, 0, [], 2),
    defaultCustomization: recipe('DRINK_SIZE_MEDIUM', 'MILK_TYPE_NONE', 'TEMPERATURE_ICED'),
    available: true,
    sortOrder: 1,
    tags: ['dairy-free'],
  },
  {
    ...espresso(ID('09'), 'Chai Latte', 'Spiced black tea concentrate with steamed milk.', 465, 1),
    category: 'tea',
    allowed: allowed(MILKS, SYRUPS, 2, 80, [...HOT, 'TEMPERATURE_ICED'], 2),
    tags: undefined,
  },
  {
    id: ID('0a'),
    name: 'Earl Grey',
    description: 'Black tea with bergamot.',
    category: 'tea',
    basePrice: usd(300),
    sizes: SIZES,
    allowed: allowed(FREE_MILKS, [], 0, 0, HOT, 0),
    defaultCustomization: recipe('DRINK_SIZE_MEDIUM', 'MILK_TYPE_NONE', 'TEMPERATURE_HOT'),
    available: true,
    sortOrder: 2,
    tags: ['dairy-free'],
  },
  {
    ...espresso(ID('0b'), 'Hot Chocolate', 'Dark chocolate melted into steamed milk; kids love the small.', 395, 1),
    category: 'chocolate',
    allowed: allowed(MILKS, SYRUPS, 0, 0, ['TEMPERATURE_WARM', 'TEMPERATURE_HOT'], 1),
    defaultCustomization: recipe('DRINK_SIZE_SMALL', 'MILK_TYPE_WHOLE', 'TEMPERATURE_WARM'),
    tags: ['kids'],
  },
  {
    ...espresso(ID('0c'), 'Pumpkin Spice Latte', 'Seasonal: espresso, pumpkin, cinnamon and nutmeg.', 545, 7),
    available: undefined,
    tags: ['seasonal'],
  },
]

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('menu_items')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('sort_order', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('doc', 'jsonb', (c) => c.notNull())
    .execute()
  const now = new Date().toISOString()
  for (const item of MENU) {
    const doc = { ...item, createdAt: now, updatedAt: now }
    await sql`insert into menu_items (id, category, sort_order, name, doc) values (${item['id']}, ${item['category']}, ${item['sortOrder'] ?? 0}, ${item['name']}, ${JSON.stringify(doc)})`.execute(
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

  // The outbox and processed-event tables, as runtime's createOutboxTables made them when this
  // migration was written.
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
