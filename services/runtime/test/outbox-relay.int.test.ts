import { randomUUID } from 'node:crypto'
import { metrics } from '@opentelemetry/api'
import type { Producer } from 'kafkajs'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { topicRecorder } from '@brewmesh/testkit/kafka.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createOutboxTables, enqueue, type OutboxMessage, type OutboxTable } from '../src/db/outbox.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { createKafka, createProducer, ensureTopics } from '../src/kafka/client.ts'
import { createOutboxRelay, type OutboxRelay } from '../src/kafka/outbox-relay.ts'
import { createLogger } from '../src/logger.ts'

// Two replicas' relays on one outbox, against real PostgreSQL and Kafka: one publishes at a time,
// and when it goes, the other takes over without losing or reordering a row.
const env = isolatedEnv('order', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'order', grpcPort: 0, metricsPort: 0, database: 'orderdb' }, 'test')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const topic = `brewmesh.test.outbox-relay.${randomUUID()}`
const kafka = createKafka(config.kafka, log)
const replicas: { database: Database<{ outbox: OutboxTable }>; relay: OutboxRelay }[] = []

const replica = ({ producer = createProducer(kafka), pollMs = 100 }: { producer?: Producer; pollMs?: number } = {}) => {
  const database = createDatabase<{ outbox: OutboxTable }>(config.postgres, log)
  const relay = createOutboxRelay({
    db: database.db,
    pool: database.pool,
    schema: config.postgres.schema,
    producer,
    log,
    meter: metrics.getMeter('test'),
    pollMs,
  })
  replicas.push({ database, relay })
  return { database, relay }
}

beforeAll(async () => {
  const first = replica()
  await sql`create schema ${sql.id(config.postgres.schema)}`.execute(first.database.db)
  await createOutboxTables(first.database.db)
  const admin = kafka.admin()
  await admin.connect()
  await ensureTopics(admin, [{ topic, numPartitions: 1 }])
  await admin.disconnect()
})
afterAll(async () => {
  for (const r of replicas) {
    await r.relay.stop(0)
    await r.database.stop()
  }
  await dropSchema(env)
})

const message = (n: number): OutboxMessage => ({ topic, key: 'one-key', payload: Uint8Array.from([n]), headers: { n: String(n) } })

describe('the outbox relay', () => {
  it('when two replicas relay one outbox, then one publishes, and when it stops the other takes over; every row once, in order', async () => {
    const [a, b] = [replicas[0]!, replica()]
    const recorded = await topicRecorder(config.kafka.brokers.join(','), topic)
    try {
      await enqueue(a.database.db, config.postgres.schema, [message(1), message(2)])
      expect(await a.relay.publishOnce()).toBe(2)
      await enqueue(a.database.db, config.postgres.schema, [message(3)])
      // b never publishes while a holds the lock, however long it tries.
      expect(await b.relay.publishOnce()).toBe(0)
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(await b.relay.publishOnce()).toBe(0)
      expect(await a.relay.publishOnce()).toBe(1)

      // a stops without draining; what it leaves is b's to publish.
      await enqueue(a.database.db, config.postgres.schema, [message(4), message(5)])
      await a.relay.stop(0)
      await eventually(async () => expect(await b.relay.publishOnce()).toBe(2))
      await eventually(() => expect(recorded.messages.map((m) => m.headers?.['n']?.toString())).toEqual(['1', '2', '3', '4', '5']))
      const pending = await a.database.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('published_at', 'is', null)
        .executeTakeFirstOrThrow()
      expect(Number(pending.n)).toBe(0)
    } finally {
      await recorded.stop()
    }
  })

  it('when a commit wakes the relay while it is publishing, then its row goes out at once, not at the next poll', async () => {
    for (const r of replicas) await r.relay.stop(0) // the lock is free for the relay below
    // A producer that holds the relay's first batch until the test lets it go.
    const real = createProducer(kafka)
    let reached!: () => void
    let release!: () => void
    const publishing = new Promise<void>((resolve) => (reached = resolve))
    const released = new Promise<void>((resolve) => (release = resolve))
    let held = false
    const producer = {
      connect: () => real.connect(),
      disconnect: () => real.disconnect(),
      async sendBatch(batch: Parameters<Producer['sendBatch']>[0]) {
        if (!held) {
          held = true
          reached()
          await released
        }
        return real.sendBatch(batch)
      },
    } as unknown as Producer
    const c = replica({ producer, pollMs: 60_000 })
    const recorded = await topicRecorder(config.kafka.brokers.join(','), topic)
    try {
      c.relay.start()
      await c.relay.publishOnce() // listening and leading (nothing pending yet)
      await new Promise((resolve) => setTimeout(resolve, 100)) // the loop waits for a wake-up
      await enqueue(c.database.db, config.postgres.schema, [message(6)])
      await publishing // row 6 read and being sent
      await enqueue(c.database.db, config.postgres.schema, [message(7)])
      await new Promise((resolve) => setTimeout(resolve, 300)) // its notification reached the relay
      release()
      // Far sooner than the poll (a minute away) would find it.
      await eventually(
        () => expect(recorded.messages.map((m) => m.headers?.['n']?.toString()).filter((n) => n === '6' || n === '7')).toEqual(['6', '7']),
        { timeoutMs: 10_000 },
      )
    } finally {
      release()
      await recorded.stop()
    }
  })
})
