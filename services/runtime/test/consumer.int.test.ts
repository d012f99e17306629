import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropSchema, eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { produceRaw, topicRecorder } from '@brewmesh/testkit/kafka.ts'
import { inject } from 'vitest'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { createOutboxTables, markProcessed } from '../src/db/outbox.ts'
import { createKafka, ensureTopics } from '../src/kafka/client.ts'
import { deadLetterTopic, PoisonMessage, startConsumer, type RunningConsumer } from '../src/kafka/consumer.ts'
import { headerString } from '../src/kafka/headers.ts'
import { createLogger } from '../src/logger.ts'

// The idempotent-consumer recipe every service uses: the event id is recorded in the same
// transaction as the effect, so redelivery changes nothing; unreadable messages go to <topic>.dlq.
const env = isolatedEnv('customer', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'customer', grpcPort: 0, metricsPort: 0, database: 'customerdb' }, 'test')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const topic = `brewmesh.test.points${config.kafka.topicSuffix}`
let database: Database<{ points: { event_id: string; amount: number } }>
let consumer: RunningConsumer
const kafka = createKafka(config.kafka, log)
const producer = kafka.producer()

beforeAll(async () => {
  database = createDatabase(config.postgres, log)
  await sql`create schema ${sql.id(config.postgres.schema)}`.execute(database.db)
  await createOutboxTables(database.db)
  await sql`create table points (event_id text not null, amount integer not null)`.execute(database.db)
  const admin = kafka.admin()
  await admin.connect()
  await ensureTopics(admin, [
    { topic, numPartitions: 1 },
    { topic: deadLetterTopic(topic), numPartitions: 1 },
  ])
  await admin.disconnect()
  await producer.connect()
  consumer = await startConsumer({
    kafka,
    groupId: `test-${randomUUID()}`,
    topics: [topic],
    producer,
    log,
    handle: async ({ message }) => {
      const body = message.value?.toString() ?? ''
      if (!/^\d+$/.test(body)) throw new PoisonMessage(`not a number: ${body.slice(0, 20)}`)
      const eventId = headerString(message.headers, 'event-id')
      if (!eventId) throw new PoisonMessage('no event-id header')
      await database.db.transaction().execute(async (trx) => {
        if (!(await markProcessed(trx, 'points', eventId))) return
        await trx
          .insertInto('points')
          .values({ event_id: eventId, amount: Number(body) })
          .execute()
      })
    },
  })
  await consumer.ready
})
afterAll(async () => {
  await consumer?.stop()
  await producer.disconnect()
  await database?.stop()
  await dropSchema(env)
})

const total = async () =>
  Number((await sql<{ s: string | null }>`select sum(amount) as s from points`.execute(database.db)).rows[0]?.s ?? 0)

describe('an idempotent consumer with a dead-letter topic', () => {
  it('applies an event delivered twice once, dead-letters a malformed message with its reason, and keeps going', async () => {
    const dlq = await topicRecorder(env['KAFKA_BROKERS']!, deadLetterTopic(topic))
    const first = randomUUID()
    const last = randomUUID()
    await produceRaw(env['KAFKA_BROKERS']!, topic, [
      { key: 'a', value: Buffer.from('10'), headers: { 'event-id': first } },
      { key: 'a', value: Buffer.from('10'), headers: { 'event-id': first } },
      { key: 'a', value: Buffer.from('{garbage'), headers: { 'event-id': randomUUID() } },
      { key: 'a', value: Buffer.from('5'), headers: { 'event-id': last } },
    ])
    await eventually(async () => expect(await total()).toBe(15))
    const dead = await eventually(() => {
      expect(dlq.messages).toHaveLength(1)
      return dlq.messages[0]!
    })
    expect(dead.value?.toString()).toBe('{garbage')
    expect(dead.headers?.['dlq-error']?.toString()).toContain('not a number')
    expect(dead.headers?.['dlq-original-topic']?.toString()).toBe(topic)
    await dlq.stop()
  })
})
