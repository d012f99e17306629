import { randomUUID } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { Kafka, logLevel, type ISocketFactory } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { sample, scrape } from '@brewmesh/testkit/metrics.ts'
import { createKafka, ensureTopics, topicName } from '@brewmesh/runtime/kafka'
import { createLogger } from '@brewmesh/runtime/logger'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { readConfig } from '../src/config.ts'
import { deploymentTopics } from '../src/deployment-topics.ts'
import { startExporter, type Exporter, type ReadOptions } from '../src/exporter.ts'

// The shared broker, slowed down for the exporter alone: its Kafka client connects through
// kafkajs' socketFactory, and while the network is stalled its sockets deliver nothing the broker
// answers (the bytes wait in the kernel), so a read started meanwhile stays in progress until the
// network is released. No other client, and no other test, sees the stall.
function stallableNetwork() {
  const sockets = new Set<Socket>()
  let stalled = false
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = connect({ host, port }, onConnect)
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    if (stalled) socket.pause()
    return socket
  }
  return {
    socketFactory,
    stall: () => ((stalled = true), sockets.forEach((s) => s.pause())),
    release: () => ((stalled = false), sockets.forEach((s) => s.resume())),
  }
}

const config = readConfig(isolatedEnv('ops', inject('infra').env))
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const kafka = createKafka(config.kafka, log)
const admin = kafka.admin()
const producer = kafka.producer()
const messages = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: Buffer.from(String(i)) }))
const exporters: Exporter[] = []
// Removed at the end, so test runs do not add to the groups and topics of the shared broker.
const made = { groups: [] as string[], topics: [] as string[] }

beforeAll(async () => {
  await Promise.all([admin.connect(), producer.connect()])
})
afterAll(async () => {
  await Promise.all(exporters.map((e) => e.stop()))
  await admin.deleteGroups(made.groups).catch(() => undefined)
  await admin.deleteTopics({ topics: made.topics }).catch(() => undefined)
  await Promise.all([admin.disconnect(), producer.disconnect()])
})

/** A group of the test's deployment 3 messages behind, and an exporter reading it through a stallable network. */
async function arrange(read: ReadOptions) {
  const topic = topicName(config.kafka, `${TOPICS.orderEvents}.${randomUUID().slice(0, 8)}`)
  const group = `loyalty-${randomUUID().slice(0, 8)}`
  made.groups.push(group)
  made.topics.push(topic)
  await ensureTopics(admin, [{ topic, numPartitions: 1 }])
  await producer.send({ topic, messages: messages(5) })
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }] })
  const network = stallableNetwork()
  const exporter = await startExporter({
    kafka: new Kafka({
      clientId: 'ops-test',
      brokers: config.kafka.brokers,
      socketFactory: network.socketFactory,
      logLevel: logLevel.NOTHING,
    }),
    topics: [...deploymentTopics(config.kafka.topicSuffix), topic],
    metrics: { port: 0, host: '127.0.0.1' },
    instanceId: 'test',
    log,
    read: { intervalMs: 100, ...read },
  })
  exporters.push(exporter)
  const seen = async () => {
    const text = await scrape(exporter.port)
    return {
      lag: sample(text, 'brewmesh_consumer_lag', { group, topic }),
      up: sample(text, 'brewmesh_kafka_state_up'),
      age: sample(text, 'brewmesh_kafka_read_age_seconds'),
    }
  }
  await eventually(async () => expect(await seen()).toMatchObject({ lag: 3, up: 1 }))
  return { topic, network, seen }
}

describe('ops exporter on a slow broker', () => {
  it('when a read is in progress on a broker that does not answer, then a scrape answers from the latest read, its age growing', async () => {
    const { topic, network, seen } = await arrange({ budgetMs: 60_000 })

    network.stall()
    // Sent past the stall: no read can see them until the network is released.
    await producer.send({ topic, messages: messages(4) })
    const during = await eventually(async () => {
      const s = await seen()
      expect(s.age).toBeGreaterThan(1)
      return s
    })
    expect(during).toMatchObject({ lag: 3, up: 1 })

    network.release()
    // The read that hung may finish first, older than the one served during the stall; the reads
    // after it start after the release, so the age falls below what it was.
    const after = await eventually(async () => {
      const s = await seen()
      expect(s.lag).toBe(7)
      expect(s.age).toBeLessThan(during.age!)
      return s
    })
    expect(after.up).toBe(1)
  })

  it('when a read overruns its budget, then kafka_state_up is 0 and the latest read is still served, its age growing', async () => {
    const { network, seen } = await arrange({ budgetMs: 2000 })

    network.stall()
    const down = await eventually(async () => {
      const s = await seen()
      expect(s.up).toBe(0)
      return s
    })
    expect(down.lag).toBe(3)
    expect(down.age).toBeGreaterThan(2)

    network.release()
    await eventually(async () => expect(await seen()).toMatchObject({ lag: 3, up: 1 }))
  })
})
