import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createOutboxTables, enqueue, type OutboxMessage, type OutboxTable } from '../src/db/outbox.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { createLogger } from '../src/logger.ts'

// enqueue writes any number of messages with one statement of one text (arrays per column), in the
// caller's transaction, and wakes the relay once at commit. Against a real PostgreSQL.
const env = isolatedEnv('order', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'order', grpcPort: 0, metricsPort: 0, database: 'orderdb' }, 'test')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
let database: Database<{ outbox: OutboxTable }>

beforeAll(async () => {
  database = createDatabase(config.postgres, log)
  await sql`create schema ${sql.id(config.postgres.schema)}`.execute(database.db)
  await createOutboxTables(database.db)
})
afterAll(async () => {
  await database?.stop()
  await dropSchema(env)
})

const stored = async () =>
  (await database.db.selectFrom('outbox').select(['topic', 'key', 'payload', 'headers']).orderBy('id').execute()).map((r) => ({
    topic: r.topic,
    key: r.key,
    payload: new Uint8Array(r.payload),
    headers: r.headers,
  }))

describe('the outbox', () => {
  it('stores every message byte for byte, in order, whatever their number and content, and notifies once per transaction', async () => {
    const notices: string[] = []
    const listener = await database.pool.connect()
    try {
      listener.on('notification', (n) => notices.push(n.channel))
      await listener.query(`listen "${config.postgres.schema}_outbox"`)
      const awkward: OutboxMessage = {
        topic: 'brewmesh.order.events.v1',
        key: 'k "quoted" \\ back,slash {braces}',
        payload: Uint8Array.from([0, 255, 92, 34, 44, 123, 125, 10]),
        headers: { 'event-id': 'e1', note: 'a "b" \\ c, {d} é ☕', empty: '' },
      }
      const plain = (n: number): OutboxMessage => ({ topic: 't', key: `k${n}`, payload: Uint8Array.from([n]), headers: { n: String(n) } })
      await database.db.transaction().execute(async (trx) => {
        await enqueue(trx, config.postgres.schema, [awkward])
        await enqueue(trx, config.postgres.schema, [plain(1), plain(2), plain(3)])
      })
      await enqueue(database.db, config.postgres.schema, [])
      expect(await stored()).toEqual([awkward, plain(1), plain(2), plain(3)])
      // One notification for the transaction (PostgreSQL folds identical ones), none for nothing.
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(notices).toEqual([`${config.postgres.schema}_outbox`])
    } finally {
      listener.release()
    }
  })
})
