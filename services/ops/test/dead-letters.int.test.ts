import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { dropSchema, eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { EnvReader, readBaseConfig } from '@brewmesh/runtime/config'
import { claimEvents, createOutboxTables } from '@brewmesh/runtime/db'
import { createDatabase, type Database } from '@brewmesh/runtime/db'
import { createKafka, ensureTopics } from '@brewmesh/runtime/kafka'
import { decodeOrPoison, deadLetterTopic, PoisonMessage, startConsumer, type RunningConsumer } from '@brewmesh/runtime/kafka'
import { createLogger } from '@brewmesh/runtime/logger'
import { deadLetterTopicOf, readDeadLetters, replayDeadLetters } from '../src/dead-letters.ts'

// The repair path: a durable consumer dead-letters what it cannot apply; the command lists it
// decoded from the contracts with its error and origin; once the cause is fixed, the chosen
// message is replayed to its topic and applied once, however often it is replayed.
const env = isolatedEnv('order', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'order', grpcPort: 0, metricsPort: 0, database: 'orderdb' }, 'test')
const suffix = config.kafka.topicSuffix
const topic = `${TOPICS.orderEvents}${suffix}`
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const kafka = createKafka(config.kafka, log)
const admin = kafka.admin()
const producer = kafka.producer()
const group = `loyalty${suffix}`
type Tables = { applied: { event_id: string; order_id: string } }
let database: Database<Tables>
let consumer: RunningConsumer

/** The customers the consumer can apply orders of: an order of anyone else is poison, until fixed. */
const known = new Set<string>()

beforeAll(async () => {
  database = createDatabase(config.postgres, log)
  await sql`create schema ${sql.id(config.postgres.schema)}`.execute(database.db)
  await createOutboxTables(database.db)
  await sql`create table applied (event_id text not null, order_id text not null)`.execute(database.db)
  await Promise.all([admin.connect(), producer.connect()])
  await ensureTopics(admin, [
    { topic, numPartitions: 1 },
    { topic: deadLetterTopic(topic), numPartitions: 1 },
  ])
  consumer = await startConsumer<OrderEvent>({
    kafka,
    groupId: group,
    topics: [topic],
    log,
    producer,
    handler: {
      decode: (received) => decodeOrPoison(received, OrderEvent, 'order event'),
      handleBatch: (items) =>
        database.db.transaction().execute(async (trx) => {
          for (const { value } of await claimEvents(trx, 'ops-test', items, (i) => i.value.metadata?.eventId ?? '')) {
            if (!known.has(value.customerId)) throw new PoisonMessage(`unknown customer ${value.customerId}`)
            await trx.insertInto('applied').values({ event_id: value.metadata!.eventId, order_id: value.orderId }).execute()
          }
        }),
    },
  })
})
afterAll(async () => {
  await consumer?.stop()
  await Promise.all([producer.disconnect(), admin.disconnect()])
  await database?.stop()
  await dropSchema(env)
})

function orderPlaced(customerId: string) {
  const eventId = randomUUID()
  const orderId = randomUUID()
  const event = OrderEvent.fromPartial({
    metadata: { eventId, eventType: 'brewmesh.order.v1.OrderPlaced', occurredAt: new Date(), source: 'order' },
    orderId,
    customerId,
  })
  return {
    orderId,
    message: {
      key: orderId,
      value: Buffer.from(OrderEvent.encode(event).finish()),
      headers: { 'event-id': eventId, 'event-type': 'brewmesh.order.v1.OrderPlaced' },
    },
  }
}

const appliedOf = async (orderId: string) =>
  (await database.db.selectFrom('applied').selectAll().where('order_id', '=', orderId).execute()).length

describe('dead letters: list and replay', () => {
  it('when a poison message is fixed and replayed twice, then it is applied once', async () => {
    const alice = randomUUID()
    const bob = randomUUID()
    known.add(alice)
    const fine = orderPlaced(alice)
    const poison = orderPlaced(bob)
    await producer.send({ topic, messages: [fine.message, poison.message, { key: 'x', value: Buffer.from('not protobuf at all') }] })

    // Dead-lettered: the unknown customer's order and the unreadable message; the rest applied.
    const dlq = deadLetterTopicOf(TOPICS.orderEvents, suffix)
    expect(dlq).toBe(deadLetterTopic(topic))
    const letters = await eventually(async () => {
      const l = await readDeadLetters(kafka, dlq, suffix)
      expect(l).toHaveLength(2)
      return l
    })
    expect(await appliedOf(fine.orderId)).toBe(1)

    // Listed: decoded from the contract, with the error and where it came from. (The unreadable one
    // went first: a chunk is decoded before it is applied.)
    const unknownCustomer = letters.find((l) => l.key === poison.orderId)
    const unreadable = letters.find((l) => l.key === 'x')
    expect(unknownCustomer).toMatchObject({
      key: poison.orderId,
      error: `unknown customer ${bob}`,
      eventType: 'brewmesh.order.v1.OrderPlaced',
      origin: { topic, partition: 0, offset: '1', group },
      decoded: { event: { orderId: poison.orderId, customerId: bob } },
    })
    expect(unreadable).toMatchObject({
      error: 'not a valid order event',
      origin: { topic, offset: '2' },
    })
    expect(unreadable?.decoded).toEqual({ undecodable: expect.stringContaining('not a valid brewmesh.order.events.v1 event') as string })

    // Fixed, then replayed twice (an operator's retry): applied once.
    known.add(bob)
    const position = unknownCustomer!.position
    await replayDeadLetters(kafka, dlq, suffix, [position])
    await eventually(async () => expect(await appliedOf(poison.orderId)).toBe(1))
    await replayDeadLetters(kafka, dlq, suffix, [position])
    // A later event on the same (single) partition: once it is applied, the second replay was handled.
    const later = orderPlaced(alice)
    await producer.send({ topic, messages: [later.message] })
    await eventually(async () => expect(await appliedOf(later.orderId)).toBe(1))
    expect(await appliedOf(poison.orderId)).toBe(1)
    // Nothing new was dead-lettered by the replays.
    expect(await readDeadLetters(kafka, dlq, suffix)).toHaveLength(2)
  })

  it('when a position is not in the dead-letter topic, then nothing is replayed', async () => {
    await expect(replayDeadLetters(kafka, deadLetterTopic(topic), suffix, ['0:999'])).rejects.toThrow('has no message at 0:999')
  })
})
