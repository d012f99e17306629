import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createKafka, ensureTopics } from '../src/kafka/client.ts'
import { startConsumer, type RunningConsumer } from '../src/kafka/consumer.ts'
import { pauseWhileUnheard } from '../src/kafka/idle-feed.ts'
import { createLogger } from '../src/logger.ts'
import { sleep } from '../src/lifecycle.ts'
import { FanOut } from '../src/streams/fan-out.ts'

// A per-replica feed with an audience (kafka/idle-feed.ts) against a real broker: it fetches
// nothing while nobody listens, and a listener that subscribed and awaited live() gets every event
// from then on and none from before.
const env = isolatedEnv('order', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'order', grpcPort: 0, metricsPort: 0, database: 'orderdb' }, 'test')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const kafka = createKafka(config.kafka, log)
const producer = kafka.producer()
const admin = kafka.admin()
const running: RunningConsumer[] = []

beforeAll(async () => {
  await Promise.all([admin.connect(), producer.connect()])
})
afterAll(async () => {
  for (const c of running) await c.stop()
  await Promise.all([producer.disconnect(), admin.disconnect()])
})

async function newTopic(): Promise<string> {
  const topic = `brewmesh.test.feed.${randomUUID().slice(0, 8)}${config.kafka.topicSuffix}`
  await ensureTopics(admin, [{ topic, numPartitions: 3 }])
  return topic
}

const send = (topic: string, ...bodies: string[]) =>
  producer.send({ topic, messages: bodies.map((body, i) => ({ key: `k${i}`, value: Buffer.from(body) })) })

/** A fan-out feed as the services declare one: every message decoded (recorded) and published to its listeners. */
async function feed(topic: string, idleCheckMs = 5000) {
  const fan = new FanOut<string>()
  const decoded: string[] = []
  const consumer = await startConsumer<string>({
    kafka,
    groupId: `test-feed-${randomUUID()}`,
    topics: [topic],
    log,
    deadLetter: false,
    fromBeginning: false,
    commitOffsets: false,
    batchWindowMs: 25,
    audience: fan,
    idleCheckMs,
    handler: {
      decode: ({ message }) => {
        const body = message.value?.toString() ?? ''
        decoded.push(body)
        return body
      },
      handleBatch: async (items) => {
        for (const { value } of items) fan.publish('all', value)
      },
    },
  })
  running.push(consumer)
  await consumer.ready
  return { fan, decoded, consumer }
}

/** Listens the way a stream does: subscribe, then wait for the feed to be live. */
async function listen(fan: FanOut<string>): Promise<{ got: string[]; stop: () => void }> {
  const got: string[] = []
  const stop = fan.subscribe('all', (v) => got.push(v))
  await fan.live()
  return { got, stop }
}

describe('a per-replica feed that pauses while nobody listens', () => {
  it('fetches nothing without a listener, and the first listener gets what follows it, not what came before', async () => {
    const topic = await newTopic()
    const { fan, decoded, consumer } = await feed(topic)
    await eventually(() => expect(consumer.consumer.paused()).toEqual([{ topic, partitions: [0, 1, 2] }]))

    await send(topic, 'before-1', 'before-2', 'before-3')
    await sleep(2500) // more than a fetch's wait: a fetching feed would have decoded them by now
    expect(decoded).toEqual([])

    const listener = await listen(fan)
    expect(consumer.consumer.paused()).toEqual([])
    await send(topic, 'after-1', 'after-2', 'after-3')
    await eventually(() => expect([...listener.got].sort()).toEqual(['after-1', 'after-2', 'after-3']))
    expect(decoded.filter((b) => b.startsWith('before'))).toEqual([])
    listener.stop()
  })

  it('pauses again once its last listener left, and wakes again at the end of the topic', async () => {
    const topic = await newTopic()
    const { fan, decoded, consumer } = await feed(topic, 100)
    const first = await listen(fan)
    await send(topic, 'heard')
    await eventually(() => expect(first.got).toEqual(['heard']))

    first.stop()
    await eventually(() => expect(consumer.consumer.paused()).toEqual([{ topic, partitions: [0, 1, 2] }]))
    await send(topic, 'unheard-1', 'unheard-2')
    await sleep(1500)
    expect(decoded).toEqual(['heard'])

    const second = await listen(fan)
    await send(topic, 'heard-again')
    await eventually(() => expect(second.got).toEqual(['heard-again']))
    expect(decoded).toEqual(['heard', 'heard-again'])
    second.stop()
  })

  it('stays awake while anyone listens', async () => {
    const topic = await newTopic()
    const { fan, consumer } = await feed(topic, 100)
    const listener = await listen(fan)
    await sleep(500) // five looks at the audience
    expect(consumer.consumer.paused()).toEqual([])
    await send(topic, 'still-heard')
    await eventually(() => expect(listener.got).toEqual(['still-heard']))
    listener.stop()
  })
})

describe('a sleeping feed woken while the ends of its topics cannot be read', () => {
  it('fetches again where it paused, within its timeout: the listener misses nothing and sees what came while it slept', async () => {
    const topic = await newTopic()
    const fan = new FanOut<string>()
    const decoded: string[] = []
    // The feed's own consumer reads the broker; the client it asks for the topics' ends points at a
    // port nobody answers on (as when the brokers went away between the pause and the wake-up).
    const unreachable = createKafka({ ...config.kafka, brokers: ['127.0.0.1:1'] }, log)
    const consumer = kafka.consumer({ groupId: `test-feed-${randomUUID()}`, maxWaitTimeInMs: 200 })
    const idle = pauseWhileUnheard({
      kafka: unreachable,
      consumer,
      topics: [topic],
      audience: fan,
      log,
      checkEveryMs: 100,
      resumeTimeoutMs: 500,
    })
    consumer.on(consumer.events.GROUP_JOIN, () => idle.joined())
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: false })
    await consumer.run({
      eachMessage: async ({ message }) => {
        const body = message.value?.toString() ?? ''
        decoded.push(body)
        fan.publish('all', body)
      },
    })
    try {
      // Heard once, so the consumer has a position in every partition when it falls asleep.
      const first = await listen(fan)
      await send(topic, 'heard')
      await eventually(() => expect(first.got).toEqual(['heard']))
      first.stop()
      await eventually(() => expect(consumer.paused()).toEqual([{ topic, partitions: [0, 1, 2] }]))
      await send(topic, 'while-asleep-1', 'while-asleep-2')
      await sleep(1000)
      expect(decoded).toEqual(['heard'])

      const waking = Date.now()
      const second = await listen(fan)
      // Woken at the timeout, not after kafkajs' retries against the dead address, and fetching.
      expect(Date.now() - waking).toBeLessThan(5000)
      expect(consumer.paused()).toEqual([])
      await send(topic, 'after-1')
      await eventually(() => expect([...second.got].sort()).toEqual(['after-1', 'while-asleep-1', 'while-asleep-2']))
      expect(decoded.filter((b) => b === 'heard')).toEqual(['heard'])
      second.stop()
    } finally {
      await idle.stop()
      await consumer.disconnect()
    }
  })
})
