import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { reusableStatement } from '../src/db/reusable-statement.ts'
import { createLogger } from '../src/logger.ts'

// Statements built once with placeholders and run with values (db/reusable-statement.ts), against
// a real PostgreSQL: each run sees its own values, constants stay constants, and the builder runs once.
const env = isolatedEnv('loyalty', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'loyalty', grpcPort: 0, metricsPort: 0, database: 'loyaltydb' }, 'test')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
type Tables = { cups: { id: string; kind: string; size: number; tags: string[]; made_at: Date } }
let database: Database<Tables>

beforeAll(async () => {
  database = createDatabase(config.postgres, log)
  await sql`create schema ${sql.id(config.postgres.schema)}`.execute(database.db)
  await sql`create table cups (id text primary key, kind text not null, size integer not null, tags text[] not null, made_at timestamptz not null)`.execute(
    database.db,
  )
})
afterAll(async () => {
  await database?.stop()
  await dropSchema(env)
})

type Cup = Tables['cups']
const COLUMNS = ['id', 'kind', 'size', 'tags', 'made_at'] as const

describe('a reusable statement', () => {
  it('inserts, updates, upserts and reads with the values of each run, building each statement once', async () => {
    const db = database.db
    let builds = 0
    const insert = reusableStatement<Cup, never>((p) => (builds++, db.insertInto('cups').values(p)), COLUMNS)
    const resize = reusableStatement<{ id: string; size: number }, never>(
      (p) => (builds++, db.updateTable('cups').set({ size: p.size }).where('id', '=', p.id)),
    )
    const upsert = reusableStatement<Cup, { id: string }>(
      (p) => (
        builds++,
        db
          .insertInto('cups')
          .values(p)
          .onConflict((oc) => oc.column('id').doUpdateSet({ kind: p.kind }))
          .returning('id')
      ),
      COLUMNS,
    )
    // A constant next to a placeholder stays the constant.
    const bigOfKind = reusableStatement<{ kind: string; limit: number }, Cup>(
      (p) => (builds++, db.selectFrom('cups').selectAll().where('kind', '=', p.kind).where('size', '>', 300).orderBy('id').limit(p.limit)),
    )
    const at = new Date('2026-11-29T08:00:00Z')
    await insert(db, { id: 'a', kind: 'latte', size: 350, tags: ['oat', 'hot'], made_at: at })
    await db.transaction().execute(async (trx) => {
      await insert(trx, { id: 'b', kind: 'latte', size: 250, tags: [], made_at: at })
      await insert(trx, { id: 'c', kind: 'mocha', size: 400, tags: ['x"y', 'a,b'], made_at: at })
      await resize(trx, { id: 'b', size: 450 })
    })
    expect(await upsert(db, { id: 'c', kind: 'flat white', size: 1, tags: [], made_at: at })).toEqual([{ id: 'c' }])
    expect(await bigOfKind(db, { kind: 'latte', limit: 10 })).toEqual([
      { id: 'a', kind: 'latte', size: 350, tags: ['oat', 'hot'], made_at: at },
      { id: 'b', kind: 'latte', size: 450, tags: [], made_at: at },
    ])
    expect(await bigOfKind(db, { kind: 'latte', limit: 1 })).toHaveLength(1)
    expect(await bigOfKind(db, { kind: 'flat white', limit: 10 })).toEqual([
      { id: 'c', kind: 'flat white', size: 400, tags: ['x"y', 'a,b'], made_at: at },
    ])
    expect(builds).toBe(4)
  })
})
