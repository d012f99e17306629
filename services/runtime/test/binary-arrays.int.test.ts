import { sql, type Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { byteaArray, jsonbArray, textArray } from '../src/db/binary-arrays.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { createLogger } from '../src/logger.ts'

// Array parameters in PostgreSQL's binary form (db/binary-arrays.ts), read by a real PostgreSQL
// through a service's own pool (statements with parameters run prepared there).
const env = isolatedEnv('customer', inject('infra').env)
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
let database: Database<unknown>
let db: Kysely<unknown>

beforeAll(async () => {
  const config = readBaseConfig(new EnvReader(env), { service: 'customer', grpcPort: 0, metricsPort: 0, database: 'customerdb' }, 'test')
  database = createDatabase(config.postgres, log)
  db = database.db
})
afterAll(async () => {
  await database.stop()
  await dropSchema(env)
})

const TEXTS = ['', 'plain', 'quotes " and \\ backslashes, {braces}, commas', 'NULL', 'Café crème ☕ 🧋', ' spaced ']

describe('binary array parameters', () => {
  it('bytea[]: every byte value, an empty value, and no elements at all', async () => {
    const every = Uint8Array.from({ length: 256 }, (_, i) => i)
    const values = [every, new Uint8Array(0), Buffer.from('"{\\x00}"')]
    const { rows } = await sql<{
      a: Buffer[]
      n: number
    }>`select ${byteaArray(values)}::bytea[] as a, cardinality(${byteaArray(values)}::bytea[]) as n`.execute(db)
    expect(rows[0]!.n).toBe(3)
    expect(rows[0]!.a.map((b) => [...b])).toEqual(values.map((v) => [...v]))
    // Indexed from 1, as every SQL array is unless told otherwise.
    const first = await sql<{ first: Buffer }>`select (${byteaArray(values)}::bytea[])[1] as first`.execute(db)
    expect([...first.rows[0]!.first]).toEqual([...every])
    const empty = await sql<{ n: number }>`select cardinality(${byteaArray([])}::bytea[]) as n`.execute(db)
    expect(empty.rows[0]!.n).toBe(0)
  })

  it('text[]: what an array literal would have to quote and escape arrives as written', async () => {
    const { rows } = await sql<{ a: string[] }>`select ${textArray(TEXTS)}::text[] as a`.execute(db)
    expect(rows[0]!.a).toEqual(TEXTS)
    const unnested = await sql<{
      t: string
      i: string
    }>`select t, i from unnest(${textArray(TEXTS)}::text[]) with ordinality as u(t, i)`.execute(db)
    expect(unnested.rows.map((r) => r.t)).toEqual(TEXTS)
  })

  it('jsonb[]: documents as PostgreSQL parses them, and a text that is no JSON refused as a jsonb literal is', async () => {
    const docs = [{ note: 'name on cup: "Ada" \\ ☕', lines: [{ quantity: 2 }], n: null }, [], 'text', 4.5]
    const { rows } = await sql<{ d: unknown; kind: string }>`
      select d, jsonb_typeof(d) as kind from unnest(${jsonbArray(docs.map((d) => JSON.stringify(d)))}::jsonb[]) as d`.execute(db)
    expect(rows.map((r) => r.d)).toEqual(docs)
    expect(rows.map((r) => r.kind)).toEqual(['object', 'array', 'string', 'number'])
    await expect(sql`select ${jsonbArray(['{"open": '])}::jsonb[]`.execute(db)).rejects.toMatchObject({ code: '22P02' })
  })

  it('an element type other than the cast names is refused, not misread', async () => {
    await expect(sql`select ${textArray(['a'])}::bytea[]`.execute(db)).rejects.toThrow(
      /binary data has array element type 25 \(text\) instead of expected 17 \(bytea\)/,
    )
  })
})
