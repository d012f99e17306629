import { sql, type Kysely } from 'kysely'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { createLogger } from '../src/logger.ts'

// A prepared statement's rows are described on its first execution on a connection only
// (db/described-once.ts, db/send-statements.ts), against a real PostgreSQL. One connection, so
// every statement here runs on the connection whose messages are counted.
const env = isolatedEnv('customer', inject('infra').env, { DB_POOL_MAX: '1' })
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
interface Drink {
  id: number
  name: string
  price_minor: string
  made_at: Date
  recipe: { shots: number; milk: string } | null
  seasonal: boolean
}
type Tables = { drinks: Drink; tally: { n: number } }
let database: Database<Tables>
let db: Kysely<Tables>
/** Describe answers the connection received: a RowDescription (rows) or a NoData (none). */
const described = { rows: 0, none: 0 }

beforeAll(async () => {
  const config = readBaseConfig(new EnvReader(env), { service: 'customer', grpcPort: 0, metricsPort: 0, database: 'customerdb' }, 'test')
  database = createDatabase<Tables>(config.postgres, log)
  db = database.db
  database.pool.on('connect', (client: pg.PoolClient) => {
    // pg's wire connection is an EventEmitter of the server's messages (not in its typings).
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection
    connection.on('rowDescription', () => described.rows++)
    connection.on('noData', () => described.none++)
  })
  await sql`create schema ${sql.id(env['DB_SCHEMA']!)}`.execute(db)
  await sql`create table drinks (id integer primary key, name text not null, price_minor bigint not null,
    made_at timestamptz not null, recipe jsonb, seasonal boolean not null)`.execute(db)
  await sql`create table tally (n integer not null)`.execute(db)
  await sql`insert into drinks values
    (1, 'latte', 450, '2026-12-01T08:00:00Z', '{"shots": 1, "milk": "oat"}', false),
    (2, 'pumpkin spice latte', 9007199254740993, '2026-12-01T09:30:00Z', null, true)`.execute(db)
})
afterAll(async () => {
  await database.stop()
  await dropSchema(env)
})

async function counted<T>(work: () => Promise<T>): Promise<{ result: T; rows: number; none: number }> {
  const before = { ...described }
  const result = await work()
  return { result, rows: described.rows - before.rows, none: described.none - before.none }
}

const drink = (id: number) => db.selectFrom('drinks').selectAll().where('id', '=', id).executeTakeFirst()

const latte: Drink = {
  id: 1,
  name: 'latte',
  price_minor: '450',
  made_at: new Date('2026-12-01T08:00:00Z'),
  recipe: { shots: 1, milk: 'oat' },
  seasonal: false,
}
const pumpkin: Drink = {
  id: 2,
  name: 'pumpkin spice latte',
  price_minor: '9007199254740993', // bigint: pg's text, past a double's precision
  made_at: new Date('2026-12-01T09:30:00Z'),
  recipe: null,
  seasonal: true,
}

describe('a prepared statement described once per connection', () => {
  it('when a statement runs again, then its rows are not described again and read with the same types', async () => {
    const first = await counted(() => drink(1))
    expect(first).toEqual({ result: latte, rows: 1, none: 0 })
    const again = await counted(async () => [await drink(2), await drink(1), await drink(3)])
    expect(again).toEqual({ result: [pumpkin, latte, undefined], rows: 0, none: 0 })
    expect(again.result[0]!.made_at).toBeInstanceOf(Date)
  })

  it('when a statement returns no rows, then it is described once too and still answers its row count', async () => {
    const add = (n: number) => db.insertInto('tally').values({ n }).executeTakeFirstOrThrow()
    const first = await counted(() => add(1))
    expect(first.none).toBe(1)
    expect(first.result.numInsertedOrUpdatedRows).toBe(1n)
    const again = await counted(async () => [await add(2), await add(3)])
    expect(again.none).toBe(0)
    expect(again.rows).toBe(0)
    expect(again.result.map((r) => r.numInsertedOrUpdatedRows)).toEqual([1n, 1n])
    expect((await db.selectFrom('tally').select('n').orderBy('n').execute()).map((r) => r.n)).toEqual([1, 2, 3])
  })

  it('when a statement is the first of a transaction, sent with its BEGIN, then it is described once too', async () => {
    const read = (id: number) =>
      db.transaction().execute((trx) => trx.selectFrom('drinks').select(['name', 'seasonal']).where('id', '=', id).execute())
    const first = await counted(() => read(2))
    expect(first).toEqual({ result: [{ name: 'pumpkin spice latte', seasonal: true }], rows: 1, none: 0 })
    const again = await counted(() => read(1))
    expect(again).toEqual({ result: [{ name: 'latte', seasonal: false }], rows: 0, none: 0 })
  })

  it('when a statement was refused before it ran, then its next execution is described', async () => {
    const priced = (price: string) =>
      db
        .selectFrom('drinks')
        .select('name')
        .where('price_minor', '=', sql<string>`${price}::bigint`)
        .execute()
    // Refused at Bind: nothing was described.
    await expect(priced('not a number')).rejects.toMatchObject({ code: '22P02' })
    const next = await counted(() => priced('450'))
    expect(next).toEqual({ result: [{ name: 'latte' }], rows: 1, none: 0 })
  })

  it('when a migration changed its rows, then the statement is described afresh and answers the new rows', async () => {
    expect((await counted(() => drink(1))).rows).toBe(0)
    const other = createDatabase<Tables>(
      readBaseConfig(
        new EnvReader({ ...env, DB_PREPARED_STATEMENTS: '0' }),
        { service: 'customer', grpcPort: 0, metricsPort: 0, database: 'customerdb' },
        'test',
      ).postgres,
      log,
    )
    try {
      await sql`alter table drinks add column size text not null default 'medium'`.execute(other.db)
      // Refused under its old name, run again at once (unnamed, described), then prepared under a
      // new name: described on its first execution there, not after.
      const after = await counted(() => drink(1))
      expect(after.result).toEqual({ ...latte, size: 'medium' })
      expect(after.rows).toBe(1)
      expect(await counted(() => drink(2))).toEqual({ result: { ...pumpkin, size: 'medium' }, rows: 1, none: 0 })
      expect(await counted(() => drink(1))).toEqual({ result: { ...latte, size: 'medium' }, rows: 0, none: 0 })
    } finally {
      await sql`alter table drinks drop column if exists size`.execute(other.db)
      await other.stop()
    }
  })
})
