import { sql, type Kysely } from 'kysely'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { createLogger } from '../src/logger.ts'

// A transaction's BEGIN travels with its first statement (db/begin-with-statement.ts,
// db/send-statements.ts), against a real PostgreSQL. One connection, so every transaction here
// runs on the connection whose answers are counted.
const env = isolatedEnv('customer', inject('infra').env, { DB_POOL_MAX: '1' })
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
type Tables = { drinks: { id: number; name: string }; later: { id: number } }
let database: Database<Tables>
let db: Kysely<Tables>
/** ReadyForQuery messages the connection received: one per round trip. */
let roundTrips = 0

beforeAll(async () => {
  const config = readBaseConfig(new EnvReader(env), { service: 'customer', grpcPort: 0, metricsPort: 0, database: 'customerdb' }, 'test')
  database = createDatabase<Tables>(config.postgres, log)
  db = database.db
  database.pool.on('connect', (client: pg.PoolClient) => {
    // pg's wire connection is an EventEmitter of the server's messages (not in its typings).
    ;(client as unknown as { connection: NodeJS.EventEmitter }).connection.on('readyForQuery', () => roundTrips++)
  })
  await sql`create schema ${sql.id(env['DB_SCHEMA']!)}`.execute(db)
  await sql`create table drinks (id integer primary key, name text not null)`.execute(db)
})
afterAll(async () => {
  await database.stop()
  await dropSchema(env)
})

async function counted<T>(work: () => Promise<T>): Promise<{ result: T; roundTrips: number }> {
  const before = roundTrips
  const result = await work()
  return { result, roundTrips: roundTrips - before }
}

const names = async () => (await db.selectFrom('drinks').select('name').orderBy('id').execute()).map((r) => r.name)

describe('a transaction BEGIN sent with its first statement', () => {
  it('when a transaction runs two statements, then it takes three round trips and both commit', async () => {
    const { roundTrips } = await counted(() =>
      db.transaction().execute(async (trx) => {
        await trx.insertInto('drinks').values({ id: 1, name: 'latte' }).execute()
        await trx.insertInto('drinks').values({ id: 2, name: 'mocha' }).execute()
      }),
    )
    expect(roundTrips).toBe(3) // begin with the first insert, the second, commit
    expect(await names()).toEqual(['latte', 'mocha'])
  })

  it('when the work throws after its first statement, then that statement is rolled back', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('drinks').values({ id: 3, name: 'flat white' }).execute()
        throw new Error('roll back')
      }),
    ).rejects.toThrow('roll back')
    expect(await names()).toEqual(['latte', 'mocha'])
  })

  it('when the first statement fails, then the transaction rolls back and the connection serves the next one', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('drinks').values({ id: 1, name: 'again' }).execute()
      }),
    ).rejects.toMatchObject({ code: '23505' })
    // The same statement text, prepared on this connection, still runs.
    await db.transaction().execute((trx) => trx.insertInto('drinks').values({ id: 4, name: 'cortado' }).execute())
    expect(await names()).toEqual(['latte', 'mocha', 'cortado'])
  })

  it('when the first statement could not be parsed, then it is parsed again once it can be', async () => {
    const read = (trx: Kysely<Tables>) => trx.selectFrom('later').select('id').where('id', '=', 1).execute()
    await expect(db.transaction().execute(read)).rejects.toMatchObject({ code: '42P01' })
    await sql`create table later (id integer primary key)`.execute(db)
    await sql`insert into later values (1)`.execute(db)
    expect(await db.transaction().execute(read)).toEqual([{ id: 1 }])
  })

  it('when the first statement has no parameters, then it runs in the transaction too', async () => {
    const { roundTrips } = await counted(() =>
      db.transaction().execute(async (trx) => {
        // A savepoint is refused outside a transaction block.
        await sql`savepoint first`.execute(trx)
        await sql`release savepoint first`.execute(trx)
      }),
    )
    expect(roundTrips).toBe(3)
  })

  it('when a transaction sets an isolation level, then its first statement runs under it', async () => {
    const level = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(
        async (trx) => (await sql<{ level: string }>`select current_setting('transaction_isolation') as level`.execute(trx)).rows[0]!.level,
      )
    expect(level).toBe('repeatable read')
  })

  it('when a transaction runs no statement, then nothing is sent and the connection serves the next one', async () => {
    const { result, roundTrips } = await counted(() => db.transaction().execute(async () => 'nothing'))
    expect(result).toBe('nothing')
    expect(roundTrips).toBe(0)
    await expect(db.transaction().execute(async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused')
    expect(await names()).toEqual(['latte', 'mocha', 'cortado'])
  })
})
