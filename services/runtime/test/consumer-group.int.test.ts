import { randomUUID } from 'node:crypto'
import type { Kafka, Producer } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPrivateKafka, type PrivateKafka } from '@brewmesh/testkit/private-kafka.ts'
import { createKafka, ensureTopics } from '../src/kafka/client.ts'
import { startConsumer, type RunningConsumer } from '../src/kafka/consumer.ts'
import { createLogger } from '../src/logger.ts'

// A durable consumer group on a broker of its own: how long the group goes without consuming
// when a member is slow.
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
let broker: PrivateKafka
let kafka: Kafka
let producer: Producer
const running: RunningConsumer[] = []

beforeAll(async () => {
  broker = await startPrivateKafka()
  kafka = createKafka({ brokers: [broker.brokers], clientId: 'test', topicSuffix: '' }, log)
  producer = kafka.producer()
  await producer.connect()
}, 180_000)
afterAll(async () => {
  for (const c of running) await c.stop()
  await producer?.disconnect()
  await broker?.close()
}, 120_000)

async function newTopic(partitions: number): Promise<string> {
  const topic = `brewmesh.test.group.${randomUUID().slice(0, 8)}`
  const admin = kafka.admin()
  await admin.connect()
  try {
    await ensureTopics(admin, [{ topic, numPartitions: partitions }])
  } finally {
    await admin.disconnect()
  }
  return topic
}

describe('a durable consumer group', () => {
  it('keeps a member that applies a chunk for longer than its session: the chunk is applied once, the group never rebalances', async () => {
    const topic = await newTopic(1)
    const calls: string[] = []
    let joins = 0
    const member = await startConsumer<string>({
      kafka,
      groupId: `test-${randomUUID()}`,
      topics: [topic],
      log,
      deadLetter: false,
      sessionTimeoutMs: 6000,
      handler: {
        decode: (r) => String(r.message.value),
        handleBatch: async (items) => {
          calls.push(...items.map((i) => i.value))
          // A chunk of a backlog on a busy database: half again the session.
          if (calls.length === 1) await sleep(9000)
        },
      },
    })
    running.push(member)
    member.consumer.on(member.consumer.events.GROUP_JOIN, () => void (joins += 1))
    await member.ready
    await producer.send({ topic, messages: [{ key: 'k', value: 'slow' }] })
    await sleep(15_000)
    await producer.send({ topic, messages: [{ key: 'k', value: 'next' }] })
    const until = Date.now() + 15_000
    while (!calls.includes('next') && Date.now() < until) await sleep(100)
    expect(calls).toEqual(['slow', 'next'])
    expect(joins).toBe(0) // the join before this listener was the only one
  }, 60_000)
})
