import { randomUUID } from 'node:crypto'
import { context, propagation, SpanKind, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { Redis } from 'iovalkey'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { EnvReader, readBaseConfig } from '../src/config.ts'
import { createOutboxTables, enqueue } from '../src/db/outbox.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { createQueue, createWorker, traced } from '../src/jobs.ts'
import { createKafka, createProducer, ensureTopics } from '../src/kafka/client.ts'
import { startConsumer, type RunningConsumer } from '../src/kafka/consumer.ts'
import { currentTraceparent } from '../src/kafka/headers.ts'
import { createOutboxRelay, type OutboxRelay } from '../src/kafka/outbox-relay.ts'
import { createLogger } from '../src/logger.ts'
import { startMetrics } from '../src/telemetry/metrics.ts'

// One trace from a request through the outbox, Kafka, a consumer and the BullMQ job it queues:
// each hop's span is a child of the one before, through the traceparent in headers and job data.
const exporter = new InMemorySpanExporter()
const env = isolatedEnv('customer', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'customer', grpcPort: 0, metricsPort: 0, database: 'customerdb' }, 'test')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const topic = `brewmesh.test.traced${config.kafka.topicSuffix}`
const kafka = createKafka(config.kafka, log)
let database: Database<unknown>
let relay: OutboxRelay
let consumer: RunningConsumer
let valkey: Redis
const stops: (() => Promise<unknown>)[] = []
let jobDone: () => void = () => undefined
const jobRan = new Promise<void>((resolve) => (jobDone = resolve))

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }))

  database = createDatabase(config.postgres, log)
  await sql`create schema ${sql.id(config.postgres.schema)}`.execute(database.db)
  await createOutboxTables(database.db)
  const admin = kafka.admin()
  await admin.connect()
  await ensureTopics(admin, [{ topic, numPartitions: 1 }])
  await admin.disconnect()

  valkey = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']), maxRetriesPerRequest: null })
  const prefix = `${env['VALKEY_KEY_PREFIX']}:trace`
  const queue = createQueue<{ traceparent?: string }>('traced-jobs', valkey, prefix, log)
  const worker = createWorker<{ traceparent?: string }>('traced-jobs', async () => jobDone(), valkey, prefix, log)
  stops.push(
    () => worker.close(),
    () => queue.close(),
  )
  const { meter, stop } = await startMetrics({ service: 'test', instanceId: 'test', port: 0, otlpEndpoint: undefined })
  stops.push(stop)
  relay = createOutboxRelay({
    db: database.db,
    pool: database.pool,
    schema: config.postgres.schema,
    producer: createProducer(kafka),
    log,
    meter,
  })
  relay.start()
  consumer = await startConsumer({
    kafka,
    groupId: `test-${randomUUID()}`,
    topics: [topic],
    log,
    deadLetter: false,
    handler: {
      decode: () => undefined,
      // Each message's job is queued in its own trace, whatever the chunk holds.
      handleBatch: async (items) => {
        for (const item of items) await item.inTrace(() => queue.add('run', traced({})))
      },
    },
  })
  await consumer.ready
})

afterAll(async () => {
  await consumer?.stop()
  await relay?.stop()
  for (const stop of stops.reverse()) await stop()
  valkey?.disconnect()
  await database?.stop()
  await dropSchema(env)
})

const byName = (spans: ReadableSpan[], name: string) => spans.find((s) => s.name === name)

describe('tracing across the outbox, Kafka and BullMQ', () => {
  it('a request, the publish of its event, the consumer and the job it queues form one trace, parent to child', async () => {
    const tracer = trace.getTracer('test')
    await tracer.startActiveSpan('request', async (request) => {
      await database.db
        .transaction()
        .execute((trx) =>
          enqueue(trx, config.postgres.schema, [
            { topic, key: 'k', payload: Buffer.from('x'), headers: { 'event-id': randomUUID(), traceparent: currentTraceparent() ?? '' } },
          ]),
        )
      request.end()
    })
    await jobRan
    const spans = await eventually(() => {
      const all = exporter.getFinishedSpans()
      expect(byName(all, 'traced-jobs run')).toBeDefined()
      return all
    })
    const request = byName(spans, 'request')!
    const publish = byName(spans, `${topic} publish`)!
    const processed = byName(spans, `${topic} process`)!
    const job = byName(spans, 'traced-jobs run')!
    expect([publish.kind, processed.kind, job.kind]).toEqual([SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.CONSUMER])
    expect(new Set([request, publish, processed, job].map((s) => s.spanContext().traceId)).size).toBe(1)
    expect(publish.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    expect(processed.parentSpanContext?.spanId).toBe(publish.spanContext().spanId)
    expect(job.parentSpanContext?.spanId).toBe(processed.spanContext().spanId)
    expect(processed.attributes['messaging.destination.name']).toBe(topic)
  })
})
