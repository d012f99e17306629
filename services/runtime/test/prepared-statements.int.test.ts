import { sql, type Kysely } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { statementName } from '../src/db/send-statements.ts'
import { createLogger } from '../src/logger.ts'

// Statements with parameters run as named prepared statements on each pooled connection
// (db/send-statements.ts), against a real PostgreSQL. One connection per database here, so
// pg_prepared_statements (a per-session view) shows what the statements before it prepared.
const env = isolatedEnv('customer', inject('infra').env, { DB_POOL_MAX: '1' })
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
type Tables = { drinks: { id: number; name: string; size?: string } }
const opened: Database<Tables>[] = []

function open(preparedStatements: number): Kysely<Tables> {
  const config = readBaseConfig(
    new EnvReader({ ...env, DB_PREPARED_STATEMENTS: String(preparedStatements) }),
    { service: 'customer', grpcPort: 0, metricsPort: 0, database: 'customerdb' },
    'test',
  )
  const database = createDatabase<Tables>(config.postgres, log)
  opened.push(database)
  return database.db
}

/** The statements this connection has prepared (the query itself has no parameters, so is not one). */
async function preparedOn(db: Kysely<Tables>): Promise<{ name: string; statement: string }[]> {
  const { rows } = await sql<{
    name: string
    statement: string
  }>`select name, statement from pg_prepared_statements order by prepare_time`.execute(db)
  return rows
}

const byId = (db: Kysely<Tables>, id: number) => db.selectFrom('drinks').selectAll().where('id', '=', id)

beforeAll(async () => {
  const db = open(0)
  await sql`create schema ${sql.id(env['DB_SCHEMA']!)}`.execute(db)
  await sql`create table drinks (id integer primary key, name text not null)`.execute(db)
  await db
    .insertInto('drinks')
    .values([
      { id: 1, name: 'latte' },
      { id: 2, name: 'mocha' },
      { id: 3, name: 'flat white' },
    ])
    .execute()
})
afterEach(async () => {
  while (opened.length > 1) await opened.pop()!.stop()
})
afterAll(async () => {
  for (const database of opened) await database.stop()
  await dropSchema(env)
})

describe('prepared statements', () => {
  it('prepares a statement with parameters once per connection and answers every execution', async () => {
    const db = open(200)
    const query = byId(db, 1)
    expect(await query.execute()).toEqual([{ id: 1, name: 'latte' }])
    expect(await byId(db, 2).execute()).toEqual([{ id: 2, name: 'mocha' }])
    expect(await byId(db, 3).execute()).toEqual([{ id: 3, name: 'flat white' }])
    const prepared = await preparedOn(db)
    expect(prepared).toEqual([{ name: statementName(query.compile().sql), statement: query.compile().sql }])
  })

  it('leaves statements without parameters, begin and commit unprepared', async () => {
    const db = open(200)
    await db.transaction().execute((trx) => trx.selectFrom('drinks').select('name').orderBy('id').execute())
    expect(await preparedOn(db)).toEqual([])
  })

  it('prepares nothing when the setting is 0', async () => {
    const db = open(0)
    expect(await byId(db, 1).execute()).toHaveLength(1)
    expect(await preparedOn(db)).toEqual([])
  })

  it('stops preparing past its bound and still answers the statements beyond it', async () => {
    const db = open(2)
    const names = await Promise.all(
      [1, 2, 3].map((id) =>
        db.selectFrom('drinks').select('name').where('id', '=', id).where(sql.lit(id), '=', sql.lit(id)).executeTakeFirstOrThrow(),
      ),
    )
    expect(names.map((r) => r.name)).toEqual(['latte', 'mocha', 'flat white'])
    expect(await db.selectFrom('drinks').select('id').where('name', '=', 'mocha').execute()).toEqual([{ id: 2 }])
    expect(await preparedOn(db)).toHaveLength(2)
  })

  it('keeps a statement prepared inside a transaction that rolled back', async () => {
    const db = open(200)
    await expect(
      db.transaction().execute(async (trx) => {
        await byId(trx, 1).execute()
        throw new Error('roll back')
      }),
    ).rejects.toThrow('roll back')
    expect(await preparedOn(db)).toHaveLength(1)
    expect(await byId(db, 2).execute()).toEqual([{ id: 2, name: 'mocha' }])
  })

  it('prepares afresh when a migration changed the table under a select *, answering at once outside a transaction', async () => {
    const db = open(200)
    expect(await byId(db, 1).execute()).toEqual([{ id: 1, name: 'latte' }])
    const other = open(0)
    await sql`alter table drinks add column size text not null default 'regular'`.execute(other)
    try {
      // Outside a transaction: run again under a new name, so the caller sees the new column.
      expect(await byId(db, 1).execute()).toEqual([{ id: 1, name: 'latte', size: 'regular' }])
      expect(await byId(db, 3).execute()).toEqual([{ id: 3, name: 'flat white', size: 'regular' }])
      await sql`alter table drinks drop column size`.execute(other)
      // Inside one: the statement fails with the transaction, as any statement error does; the
      // next attempt prepares afresh and succeeds.
      await expect(db.transaction().execute((trx) => byId(trx, 2).execute())).rejects.toMatchObject({ code: '0A000' })
      expect(await db.transaction().execute((trx) => byId(trx, 2).execute())).toEqual([{ id: 2, name: 'mocha' }])
    } finally {
      await sql`alter table drinks drop column if exists size`.execute(other)
    }
  })
})
