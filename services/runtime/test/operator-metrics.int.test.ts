import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { sample, scrape } from '@brewmesh/testkit/metrics.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createOutboxTables, enqueue } from '../src/db/outbox.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { createKafka, createProducer, ensureTopics } from '../src/kafka/client.ts'
import { createOutboxRelay, type OutboxRelay } from '../src/kafka/outbox-relay.ts'
import { createLogger } from '../src/logger.ts'
import { startMetrics, type Metrics } from '../src/telemetry/metrics.ts'

// What an operator reads on a service's /metrics besides its RPCs: the outbox backlog and the age
// of its oldest row, the events published by type and outcome (the business counters), and the
// Node runtime. Against real PostgreSQL and Kafka, scraped over HTTP as Prometheus does.
const env = isolatedEnv('order', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'order', grpcPort: 0, metricsPort: 0, database: 'orderdb' }, 'test')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const kafka = createKafka(config.kafka, log)
const admin = kafka.admin()
const topic = `brewmesh.test.orders.${randomUUID().slice(0, 8)}${config.kafka.topicSuffix}`
let database: Database<Record<string, never>>
let metrics: Metrics
let relay: OutboxRelay

beforeAll(async () => {
  database = createDatabase(config.postgres, log)
  await sql`create schema ${sql.id(config.postgres.schema)}`.execute(database.db)
  await createOutboxTables(database.db)
  await admin.connect()
  await ensureTopics(admin, [{ topic, numPartitions: 1 }])
  metrics = await startMetrics({ service: 'order', instanceId: 'test', port: 0, host: '127.0.0.1' })
  relay = createOutboxRelay({
    db: database.db,
    pool: database.pool,
    schema: config.postgres.schema,
    producer: createProducer(kafka),
    log,
    meter: metrics.meter,
  })
})
afterAll(async () => {
  await relay?.stop()
  await metrics?.stop()
  await admin.disconnect()
  await database?.stop()
  await dropSchema(env)
})

const event = (type: string, outcome?: string) => ({
  topic,
  key: randomUUID(),
  payload: Buffer.from('{}'),
  headers: { 'event-id': randomUUID(), 'event-type': type, ...(outcome ? { 'event-outcome': outcome } : {}) },
})

describe('operator metrics', () => {
  it('when events wait in the outbox, then the backlog and the age of the oldest are reported, and once published they are counted by type and outcome', async () => {
    await database.db
      .transaction()
      .execute((trx) =>
        enqueue(trx, config.postgres.schema, [
          event('brewmesh.order.v1.OrderPlaced'),
          event('brewmesh.order.v1.OrderPlaced'),
          event('brewmesh.order.v1.PaymentProcessed', 'declined'),
        ]),
      )
    // The oldest row has waited two minutes (the relay is not started yet: nothing publishes it).
    await sql`update outbox set created_at = now() - interval '2 minutes' where id = (select min(id) from outbox)`.execute(database.db)

    const before = await scrape(metrics.port)
    expect(sample(before, 'outbox_pending')).toBe(3)
    expect(sample(before, 'outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(120)

    expect(await relay.publishOnce()).toBe(3)

    const after = await scrape(metrics.port)
    expect(sample(after, 'outbox_pending')).toBe(0)
    expect(sample(after, 'outbox_oldest_pending_age_seconds')).toBe(0)
    expect(sample(after, 'outbox_published_total', { topic, event_type: 'brewmesh.order.v1.OrderPlaced' })).toBe(2)
    expect(sample(after, 'outbox_published_total', { topic, event_type: 'brewmesh.order.v1.PaymentProcessed', outcome: 'declined' })).toBe(
      1,
    )
  })

  it('when scraped, then the Node runtime reports its heap, event-loop delay and utilization', async () => {
    // The delay histogram needs samples: the first scrape may come before any.
    const text = await eventually(async () => {
      const t = await scrape(metrics.port)
      expect(sample(t, 'nodejs_eventloop_delay_seconds', { stat: 'p99' })).toBeGreaterThanOrEqual(0)
      return t
    })
    expect(sample(text, 'nodejs_heap_bytes', { state: 'used' })).toBeGreaterThan(0)
    expect(sample(text, 'nodejs_heap_bytes', { state: 'limit' })).toBeGreaterThan(sample(text, 'nodejs_heap_bytes', { state: 'used' })!)
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(sample(text, 'nodejs_eventloop_utilization')).toBeGreaterThanOrEqual(0)
  })
})
