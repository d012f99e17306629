import { join } from 'node:path'
import { PostgresIntrospector, sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { readBaseConfig, EnvReader, type PostgresConfig } from '../src/config.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { createLogger } from '../src/logger.ts'
import { migrateSchema } from '../src/service.ts'

// A service's kysely introspects its own schema only (db/own-schema.ts), so its migrations do not
// depend on the other schemas of its database, against a real PostgreSQL.
const infra = inject('infra').env
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const MIGRATIONS = join(import.meta.dirname, 'support', 'drinks-migrations')
const postgresConfig = (env: Record<string, string>): PostgresConfig =>
  readBaseConfig(new EnvReader(env), { service: 'customer', grpcPort: 0, metricsPort: 0, database: 'customerdb' }, 'test').postgres

describe('migrations beside other schemas', () => {
  it('succeed while other clients create and drop schemas in the same database', async () => {
    // kysely's own introspector failed 17 to 20 of 60 such migrations here ("schema … does not exist").
    const others = isolatedEnv('customer', infra)
    const client = new pg.Client({ ...postgresConfig(others), database: others['DB_NAME'] })
    await client.connect()
    let stop = false
    let dropped = 0
    const churn = (async () => {
      while (!stop) {
        const other = `${others['DB_SCHEMA']}_${dropped}`
        await client.query(`create schema "${other}"; create table "${other}".t (id serial primary key, a text, b text)`)
        await client.query(`drop schema "${other}" cascade`)
        dropped++
      }
    })()
    const failures: string[] = []
    try {
      for (let i = 0; i < 30; i++) {
        const env = isolatedEnv('customer', infra)
        await migrateSchema(postgresConfig(env), MIGRATIONS, log).catch((err: Error) => failures.push(err.message))
        await dropSchema(env)
      }
    } finally {
      stop = true
      await churn
      await client.end()
    }
    expect(dropped).toBeGreaterThan(30) // the schemas really came and went throughout
    expect(failures).toEqual([])
  })
})

describe("a service's introspection", () => {
  const env = isolatedEnv('customer', infra)
  const neighbour = `${env['DB_SCHEMA']}_neighbour`
  let database: Database<unknown>

  beforeAll(async () => {
    await migrateSchema(postgresConfig(env), MIGRATIONS, log)
    database = createDatabase(postgresConfig(env), log)
    await sql`create schema ${sql.id(neighbour)}`.execute(database.db)
    await sql`create table ${sql.id(neighbour, 'drinks')} (id integer)`.execute(database.db)
  })
  afterAll(async () => {
    await sql`drop schema if exists ${sql.id(neighbour)} cascade`.execute(database.db)
    await database.stop()
    await dropSchema(env)
  })

  it("lists only the service's schema", async () => {
    expect(await database.db.introspection.getSchemas()).toEqual([{ name: env['DB_SCHEMA'] }])
  })

  it("reports the service's tables and views as kysely's PostgreSQL introspector does, and no other schema's", async () => {
    const kyselys = async (withInternalKyselyTables: boolean) =>
      (await new PostgresIntrospector(database.db).getTables({ withInternalKyselyTables })).filter((t) => t.schema === env['DB_SCHEMA'])
    const tables = await database.db.introspection.getTables()
    expect(tables.map((t) => t.name)).toEqual(['drinks', 'large_drinks'])
    expect(tables[0]!.columns).toEqual([
      { name: 'id', dataType: 'int4', dataTypeSchema: 'pg_catalog', isNullable: false, hasDefaultValue: true, isAutoIncrementing: true },
      {
        name: 'name',
        dataType: 'text',
        dataTypeSchema: 'pg_catalog',
        isNullable: false,
        hasDefaultValue: false,
        isAutoIncrementing: false,
        comment: 'what the menu calls it',
      },
      { name: 'size', dataType: 'text', dataTypeSchema: 'pg_catalog', isNullable: true, hasDefaultValue: true, isAutoIncrementing: false },
    ])
    expect(tables).toEqual(await kyselys(false))
    const withInternal = await database.db.introspection.getTables({ withInternalKyselyTables: true })
    expect(withInternal.map((t) => t.name)).toEqual(['drinks', 'kysely_migration', 'kysely_migration_lock', 'large_drinks'])
    expect(withInternal).toEqual(await kyselys(true))
  })
})
