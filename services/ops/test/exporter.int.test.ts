import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { sample, scrape } from '@brewmesh/testkit/metrics.ts'
import { createKafka, deadLetterTopic, ensureTopics, topicName } from '@brewmesh/runtime/kafka'
import { createLogger } from '@brewmesh/runtime/logger'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { readConfig } from '../src/config.ts'
import { deploymentTopics } from '../src/deployment-topics.ts'
import { startExporter, type Exporter } from '../src/exporter.ts'

// The exporter reads consumer lag and dead-letter sizes from the broker itself: a group with
// committed offsets behind the end of its topic, and a dead-letter topic holding messages. It
// reads in the background (every 100 ms here), so what a scrape shows arrives eventually.
const config = readConfig(isolatedEnv('ops', inject('infra').env))
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const kafka = createKafka(config.kafka, log)
const admin = kafka.admin()
const producer = kafka.producer()
// The test's own suffix (isolatedEnv) makes these topics its own deployment's.
const topic = topicName(config.kafka, TOPICS.orderEvents)
const elsewhere = `${TOPICS.orderEvents}.another-${randomUUID().slice(0, 8)}`
let exporter: Exporter
// Removed at the end, so test runs do not add to the groups and topics of the shared broker.
const made = { groups: [] as string[], topics: [topic, deadLetterTopic(topic), elsewhere] }

beforeAll(async () => {
  await Promise.all([admin.connect(), producer.connect()])
  await ensureTopics(admin, [
    { topic, numPartitions: 2 },
    { topic: deadLetterTopic(topic), numPartitions: 1 },
    { topic: elsewhere, numPartitions: 1 },
  ])
  exporter = await startExporter({
    kafka,
    topics: deploymentTopics(config.kafka.topicSuffix),
    metrics: { port: 0, host: '127.0.0.1' },
    instanceId: 'test',
    log,
    read: { intervalMs: 100 },
  })
})
afterAll(async () => {
  await exporter?.stop()
  await admin.deleteGroups(made.groups).catch(() => undefined)
  await admin.deleteTopics({ topics: made.topics }).catch(() => undefined)
  await Promise.all([admin.disconnect(), producer.disconnect()])
})

const messages = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: Buffer.from(String(i)) }))

/** Every brewmesh_consumer_lag series of a scrape, as its group and topic labels. */
const lagSeries = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('brewmesh_consumer_lag{'))
    .map((line) => ({ group: /group="([^"]*)"/.exec(line)?.[1], topic: /topic="([^"]*)"/.exec(line)?.[1] }))

describe('ops exporter', () => {
  it('when a group has committed offsets behind the end of its topic, then its lag is what it has not consumed, summed over partitions', async () => {
    await producer.send({ topic, messages: messages(4).map((m) => ({ ...m, partition: 0 })) })
    await producer.send({ topic, messages: messages(3).map((m) => ({ ...m, partition: 1 })) })
    await producer.send({ topic: elsewhere, messages: messages(2) })
    const group = `loyalty-${randomUUID().slice(0, 8)}`
    made.groups.push(group)
    // Consumed 1 of 4 on partition 0, all 3 on partition 1.
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '1' },
        { partition: 1, offset: '3' },
      ],
    })
    await admin.setOffsets({ groupId: group, topic: elsewhere, partitions: [{ partition: 0, offset: '0' }] })

    const text = await eventually(async () => {
      const text = await scrape(exporter.port)
      expect(sample(text, 'brewmesh_consumer_lag', { group, topic })).toBe(3)
      return text
    })
    expect(sample(text, 'brewmesh_kafka_state_up')).toBe(1)
    // Another deployment's topics (another suffix) are not this exporter's.
    expect(sample(text, 'brewmesh_consumer_lag', { group, topic: elsewhere })).toBeUndefined()
  })

  it('when messages are dead-lettered, then the dead-letter topic reports how many it holds and their origin', async () => {
    const dlq = deadLetterTopic(topic)
    await eventually(async () => expect(sample(await scrape(exporter.port), 'brewmesh_dead_letters', { topic: dlq })).toBe(0))

    await producer.send({ topic: dlq, messages: messages(2) })

    await eventually(async () =>
      expect(sample(await scrape(exporter.port), 'brewmesh_dead_letters', { topic: dlq, origin: topic })).toBe(2),
    )
  })

  it('when 60 groups of another deployment keep offsets on its copies of the topics, then only this deployment’s groups are reported, with their lag', async () => {
    const other = `.another-${randomUUID().slice(0, 8)}`
    const otherTopics = [TOPICS.orderEvents + other, TOPICS.customerEvents + other]
    const ours = topicName(config.kafka, TOPICS.customerEvents)
    made.topics.push(...otherTopics, ours)
    await ensureTopics(admin, [...otherTopics.map((t) => ({ topic: t, numPartitions: 1 })), { topic: ours, numPartitions: 2 }])
    for (const t of otherTopics) await producer.send({ topic: t, messages: messages(5) })
    await producer.send({ topic: ours, messages: messages(3).map((m) => ({ ...m, partition: 0 })) })
    await producer.send({ topic: ours, messages: messages(2).map((m) => ({ ...m, partition: 1 })) })
    // Named as runtime names durable groups (<consumer><suffix>) and left without members, like the
    // groups finished test runs leave on a shared broker.
    const others = Array.from({ length: 60 }, (_, i) => `${['loyalty', 'favorites', 'customer-activity'][i % 3]}${other}-${i}`)
    await Promise.all(
      others.map((groupId, i) => admin.setOffsets({ groupId, topic: otherTopics[i % 2]!, partitions: [{ partition: 0, offset: '1' }] })),
    )
    // This deployment's group consumed 1 of 3 on partition 0 and never committed partition 1.
    const group = `customer-activity${config.kafka.topicSuffix}`
    made.groups.push(...others, group)
    await admin.setOffsets({ groupId: group, topic: ours, partitions: [{ partition: 0, offset: '1' }] })

    const text = await eventually(async () => {
      const text = await scrape(exporter.port)
      expect(sample(text, 'brewmesh_consumer_lag', { group, topic: ours })).toBe(2 + 2)
      return text
    })
    const reported = lagSeries(text)
    expect(reported.filter((s) => others.includes(s.group!))).toEqual([])
    expect(reported.filter((s) => !deploymentTopics(config.kafka.topicSuffix).includes(s.topic!))).toEqual([])
    expect(sample(text, 'brewmesh_kafka_state_up')).toBe(1)
  })
})
