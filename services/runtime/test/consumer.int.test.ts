import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { topicRecorder } from '@brewmesh/testkit/kafka.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createDatabase, type Database } from '../src/db/postgres.ts'
import { claimEvents, createOutboxTables } from '../src/db/outbox.ts'
import { resourceExhausted, unavailable } from '../src/errors.ts'
import { createKafka, ensureTopics } from '../src/kafka/client.ts'
import { deadLetterTopic, PoisonMessage, startConsumer, type Consumed, type RunningConsumer } from '../src/kafka/consumer.ts'
import { headerString } from '../src/kafka/headers.ts'
import { createLogger } from '../src/logger.ts'

// The batch consumer every service uses: a chunk of messages is applied in one transaction that
// records its event ids (claimEvents), offsets are committed after it, unreadable messages go to
// <topic>.dlq alone. Each case has its own topic and consumer group.
const env = isolatedEnv('customer', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'customer', grpcPort: 0, metricsPort: 0, database: 'customerdb' }, 'test')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
type Tables = { points: { event_id: string; amount: number; topic: string } }
let database: Database<Tables>
const kafka = createKafka(config.kafka, log)
const producer = kafka.producer()
const admin = kafka.admin()
const running: RunningConsumer[] = []

beforeAll(async () => {
  database = createDatabase(config.postgres, log)
  await sql`create schema ${sql.id(config.postgres.schema)}`.execute(database.db)
  await createOutboxTables(database.db)
  await sql`create table points (event_id text not null, amount integer not null, topic text not null)`.execute(database.db)
  await Promise.all([admin.connect(), producer.connect()])
})
afterAll(async () => {
  for (const c of running) await c.stop()
  await Promise.all([producer.disconnect(), admin.disconnect()])
  await database?.stop()
  await dropSchema(env)
})

interface Points {
  eventId: string
  amount: number
}
/** What a handler saw: the event ids of each chunk it was given (every attempt). */
type Calls = string[][]

/** A fresh topic (and its dead-letter topic). */
async function newTopic(partitions = 1): Promise<string> {
  const topic = `brewmesh.test.points.${randomUUID().slice(0, 8)}${config.kafka.topicSuffix}`
  await ensureTopics(admin, [
    { topic, numPartitions: partitions },
    { topic: deadLetterTopic(topic), numPartitions: 1 },
  ])
  return topic
}

const message = (eventId: string, body: string, key = 'k') => ({ key, value: Buffer.from(body), headers: { 'event-id': eventId } })
const send = (topic: string, messages: ReturnType<typeof message>[]) => producer.send({ topic, messages })

/**
 * A durable points consumer: decode reads the amount (PoisonMessage unless digits), the chunk is
 * inserted in one transaction with its event ids; `afterWrite` runs inside that transaction, after
 * the inserts (to fail it after partial work), `afterCommit` after it committed.
 */
async function pointsConsumer(
  topic: string,
  options: {
    groupId?: string
    calls?: Calls
    maxAttempts?: number
    afterWrite?: (items: readonly Consumed<Points>[]) => Promise<void> | void
    afterCommit?: (items: readonly Consumed<Points>[], applied: number) => Promise<void> | void
  } = {},
): Promise<RunningConsumer> {
  const consumer = await startConsumer<Points>({
    kafka,
    groupId: options.groupId ?? `test-${randomUUID()}`,
    topics: [topic],
    producer,
    log,
    maxAttempts: options.maxAttempts ?? 2,
    handler: {
      decode: ({ message: m }) => {
        const body = m.value?.toString() ?? ''
        if (!/^\d+$/.test(body)) throw new PoisonMessage(`not a number: ${body.slice(0, 20)}`)
        const eventId = headerString(m.headers, 'event-id')
        if (!eventId) throw new PoisonMessage('no event-id header')
        return { eventId, amount: Number(body) }
      },
      handleBatch: async (items) => {
        options.calls?.push(items.map((i) => i.value.eventId))
        const applied = await database.db.transaction().execute(async (trx) => {
          const fresh = await claimEvents(trx, 'points', items, (i) => i.value.eventId)
          if (fresh.length > 0) {
            await trx
              .insertInto('points')
              .values(fresh.map((i) => ({ event_id: i.value.eventId, amount: i.value.amount, topic })))
              .execute()
          }
          await options.afterWrite?.(items)
          return fresh.length
        })
        await options.afterCommit?.(items, applied)
      },
    },
  })
  running.push(consumer)
  await consumer.ready
  return consumer
}

const total = async (topic: string) =>
  Number((await sql<{ s: string | null }>`select sum(amount) as s from points where topic = ${topic}`.execute(database.db)).rows[0]?.s ?? 0)
/** Rows per event id: 1 for each event applied once. */
const rowsPerEvent = async (topic: string) => {
  const { rows } = await sql<{ event_id: string; n: number }>`
    select event_id, count(*)::int as n from points where topic = ${topic} group by event_id order by event_id`.execute(database.db)
  return Object.fromEntries(rows.map((r) => [r.event_id, r.n]))
}

describe('a batch consumer with a dead-letter topic', () => {
  it('applies a chunk in one transaction, and an event delivered twice, in one chunk and again later, once', async () => {
    const topic = await newTopic()
    const calls: Calls = []
    await pointsConsumer(topic, { calls })
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()]
    await send(topic, [message(a, '10'), message(a, '10'), message(b, '5')])
    await eventually(async () => expect(await total(topic)).toBe(15))
    await send(topic, [message(a, '10'), message(c, '1')])
    await eventually(async () => expect(await total(topic)).toBe(16))
    expect(calls[0]).toEqual([a, a, b]) // one chunk held both copies
    expect(await rowsPerEvent(topic)).toEqual(Object.fromEntries([a, b, c].sort().map((id) => [id, 1])))
  })

  it('dead-letters a message that does not decode, alone, with its reason; the rest of its chunk is applied once', async () => {
    const topic = await newTopic()
    const dlq = await topicRecorder(env['KAFKA_BROKERS']!, deadLetterTopic(topic))
    const calls: Calls = []
    await pointsConsumer(topic, { calls })
    const [first, last] = [randomUUID(), randomUUID()]
    await send(topic, [message(first, '10'), message(randomUUID(), '{garbage'), message(last, '5')])
    await eventually(async () => expect(await total(topic)).toBe(15))
    const dead = await eventually(() => {
      expect(dlq.messages).toHaveLength(1)
      return dlq.messages[0]!
    })
    await dlq.stop()
    expect(dead.value?.toString()).toBe('{garbage')
    expect(dead.headers?.['dlq-error']?.toString()).toContain('not a number')
    expect(dead.headers?.['dlq-original-topic']?.toString()).toBe(topic)
    expect(dead.headers?.['event-id']).toBeDefined() // the original headers travel with it
    expect(calls).toEqual([[first, last]]) // decoded around the poison, applied in one go
  })

  it('a message its handler always rejects, in the middle of a chunk, reaches the dead-letter topic alone after maxAttempts; the others are applied once', async () => {
    const topic = await newTopic()
    const dlq = await topicRecorder(env['KAFKA_BROKERS']!, deadLetterTopic(topic))
    const calls: Calls = []
    const ids = Array.from({ length: 7 }, () => randomUUID())
    const cursed = ids[3]!
    // The whole chunk is written, then the handler refuses it: the transaction rolls back.
    await pointsConsumer(topic, {
      calls,
      maxAttempts: 2,
      afterWrite: (items) => {
        if (items.some((i) => i.value.eventId === cursed)) throw new Error('cannot apply 13')
      },
    })
    await send(
      topic,
      ids.map((id) => message(id, id === cursed ? '13' : '1')),
    )
    const dead = await eventually(() => {
      expect(dlq.messages).toHaveLength(1)
      return dlq.messages[0]!
    })
    await dlq.stop()
    expect(dead.headers?.['event-id']?.toString()).toBe(cursed)
    expect(dead.headers?.['dlq-error']?.toString()).toBe('cannot apply 13')
    await eventually(async () => expect(await total(topic)).toBe(6))
    expect(await rowsPerEvent(topic)).toEqual(Object.fromEntries(ids.filter((id) => id !== cursed).map((id) => [id, 1])))
    expect(calls[0]).toEqual(ids) // first tried as one chunk
    expect(calls.filter((c) => c.length === 1 && c[0] === cursed)).toHaveLength(2) // then alone, maxAttempts times
  })

  it('a chunk that fails with a dependency outage after partial work is retried whole and applied once', async () => {
    const topic = await newTopic()
    const calls: Calls = []
    let outage = true
    await pointsConsumer(topic, {
      calls,
      afterWrite: () => {
        if (outage) {
          outage = false
          throw unavailable('the database is unavailable, retry later')
        }
      },
    })
    const ids = [randomUUID(), randomUUID(), randomUUID()]
    await send(
      topic,
      ids.map((id) => message(id, '2')),
    )
    await eventually(async () => expect(await total(topic)).toBe(6))
    expect(calls).toEqual([ids, ids])
    expect(await rowsPerEvent(topic)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])))
  })

  it('a chunk that meets an exhausted connection pool, more often than maxAttempts, is retried whole until it applies: nothing dead-lettered', async () => {
    // The pool says "retry later" (RESOURCE_EXHAUSTED): the events are sound, the moment is not.
    const topic = await newTopic()
    const calls: Calls = []
    let busy = 4
    await pointsConsumer(topic, {
      calls,
      maxAttempts: 2,
      afterWrite: () => {
        if (busy-- > 0) throw resourceExhausted('the database connection pool is exhausted; retry later', 100)
      },
    })
    const ids = [randomUUID(), randomUUID()]
    await send(
      topic,
      ids.map((id) => message(id, '5')),
    )
    await eventually(async () => expect(await total(topic)).toBe(10))
    // Whole every time: never split into halves, never a message alone toward the dead-letter topic.
    expect(calls).toEqual([ids, ids, ids, ids, ids])
    expect(await rowsPerEvent(topic)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])))
  })

  it('a consumer kafkajs leaves stopped after an error it does not retry is started again, until it runs', async () => {
    // A session the broker refuses (its minimum is 6 s) fails every join with INVALID_SESSION_TIMEOUT,
    // which kafkajs does not retry, as a rejoin that meets the broker going down fails with "Failed
    // to find group coordinator". Each crash must be followed by another start.
    const topic = await newTopic()
    const consumer = await startConsumer<string>({
      kafka,
      groupId: `test-${randomUUID()}`,
      topics: [topic],
      producer,
      log,
      sessionTimeoutMs: 1000,
      restartAfterMs: 200,
      handler: { decode: (r) => String(r.message.value), handleBatch: async () => undefined },
    })
    running.push(consumer)
    const crashes: boolean[] = []
    consumer.consumer.on(consumer.consumer.events.CRASH, ({ payload }) => void crashes.push(payload.restart))
    await eventually(() => expect(crashes.length).toBeGreaterThanOrEqual(2))
    expect(crashes.every((restart) => !restart)).toBe(true) // kafkajs itself would not have restarted it
  })

  it('a consumer stopped after its transaction committed but before the offset commit: the chunk comes again and changes nothing', async () => {
    const topic = await newTopic()
    const groupId = `test-${randomUUID()}`
    const ids = Array.from({ length: 5 }, () => randomUUID())
    let redelivered = 0
    let crashed: Promise<void> | undefined
    const first: RunningConsumer = await pointsConsumer(topic, {
      groupId,
      afterCommit: () => {
        // The transaction is committed; the consumer goes away before it can commit the offsets.
        crashed ??= first.stop()
        throw new Error('stopped before committing offsets')
      },
    })
    await send(
      topic,
      ids.map((id) => message(id, '3')),
    )
    await eventually(async () => expect(await total(topic)).toBe(15))
    await crashed
    await pointsConsumer(topic, { groupId, afterCommit: (items, applied) => void (redelivered += items.length - applied) })
    await eventually(() => expect(redelivered).toBe(5)) // the same chunk again, every event already applied
    expect(await total(topic)).toBe(15)
    expect(await rowsPerEvent(topic)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])))
  })

  it('a consumer stopped gracefully commits what it applied (commits are gathered per second): the next member of its group starts after it', async () => {
    const topic = await newTopic()
    const groupId = `test-${randomUUID()}`
    const first = await pointsConsumer(topic, { groupId })
    await send(topic, [message(randomUUID(), '4'), message(randomUUID(), '6')])
    await eventually(async () => expect(await total(topic)).toBe(10))
    await first.stop() // well within the commit interval: only the flush on stop commits
    const calls: Calls = []
    await pointsConsumer(topic, { groupId, calls })
    const last = randomUUID()
    await send(topic, [message(last, '1')])
    await eventually(async () => expect(await total(topic)).toBe(11))
    expect(calls.flat()).toEqual([last])
  })

  it('applies the partitions of a fetch together, each in offset order, never more than maxChunk at once', async () => {
    // 20 messages in each of 3 partitions, maxChunk 50: two partitions fit in one chunk, the third does not.
    const topic = await newTopic(3)
    const perPartition = 20
    const sent = [0, 1, 2].map((p) => Array.from({ length: perPartition }, (_, i) => ({ partition: p, id: randomUUID(), n: i })))
    await producer.send({
      topic,
      messages: sent.flat().map((m) => ({ partition: m.partition, value: Buffer.from(String(m.n)), headers: { 'event-id': m.id } })),
    })
    const seen = new Map<number, number[]>()
    const chunks: { partitions: number[]; size: number }[] = []
    const consumer = await startConsumer<number>({
      kafka,
      groupId: `test-${randomUUID()}`,
      topics: [topic],
      log,
      deadLetter: false,
      maxChunk: 50,
      handler: {
        decode: ({ message: m }) => Number(m.value?.toString()),
        handleBatch: async (items) => {
          chunks.push({ partitions: [...new Set(items.map((i) => i.received.partition))], size: items.length })
          for (const { received, value } of items) seen.set(received.partition, [...(seen.get(received.partition) ?? []), value])
          await new Promise((resolve) => setTimeout(resolve, 5))
        },
      },
    })
    running.push(consumer)
    await eventually(() => expect([...seen.values()].flat()).toHaveLength(3 * perPartition), { timeoutMs: 30_000 })
    for (const p of [0, 1, 2]) expect(seen.get(p)).toEqual(sent[p]!.map((m) => m.n))
    expect(chunks.some((c) => c.partitions.length > 1)).toBe(true) // gathered: one transaction for several partitions
    expect(Math.max(...chunks.map((c) => c.size))).toBeLessThanOrEqual(50)
  })

  /** A consumer of a fresh topic with a batch window; `chunks` are the numbers of each chunk it applied. */
  const windowed = async (batchWindowMs: number) => {
    const topic = await newTopic()
    const chunks: number[][] = []
    const consumer = await startConsumer<number>({
      kafka,
      groupId: `test-${randomUUID()}`,
      topics: [topic],
      log,
      deadLetter: false,
      batchWindowMs,
      handler: {
        decode: ({ message: m }) => Number(m.value?.toString()),
        handleBatch: async (items) => void chunks.push(items.map((i) => i.value)),
      },
    })
    running.push(consumer)
    await consumer.ready
    return { topic, chunks, consumer }
  }

  it('with a batch window, messages sent one at a time within it arrive as one chunk', async () => {
    const { topic, chunks } = await windowed(1000)
    // Six sends 30 ms apart: without a window each is fetched on its own (six chunks).
    for (let n = 1; n <= 6; n++) {
      await send(topic, [message(randomUUID(), String(n))])
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    await eventually(() => expect(chunks.flat()).toEqual([1, 2, 3, 4, 5, 6]), { timeoutMs: 10_000 })
    // One chunk, or two when a fetch's window ended among the sends.
    expect(chunks.length).toBeLessThanOrEqual(2)
  })

  it('with a batch window, an idle consumer asks the broker about once a second, not once per window', async () => {
    const { consumer } = await windowed(200)
    let fetches = 0
    consumer.consumer.on(consumer.consumer.events.FETCH, () => void fetches++)
    await new Promise((resolve) => setTimeout(resolve, 3000))
    // A fetch waits up to a second for data: about three in three idle seconds (a broker holding
    // every fetch for the 200 ms window was asked fifteen times).
    expect(fetches).toBeGreaterThan(0)
    expect(fetches).toBeLessThanOrEqual(6)
  })

  it('with a batch window, the first message after a quiet spell is fetched at once; the next waits for the window', async () => {
    const { topic, chunks } = await windowed(1000)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await send(topic, [message(randomUUID(), '1')])
    // Well inside the 1000 ms window a broker-held fetch would have kept it for.
    await eventually(() => expect(chunks).toEqual([[1]]), { timeoutMs: 900, intervalMs: 20 })
    await send(topic, [message(randomUUID(), '2')])
    await eventually(() => expect(chunks).toEqual([[1], [2]]), { timeoutMs: 10_000 })
  })
})
