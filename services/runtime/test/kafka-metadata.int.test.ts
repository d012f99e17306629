import { randomUUID } from 'node:crypto'
import type { Admin } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { isolatedEnv } from '@brewmesh/testkit/env.ts'
import { readBaseConfig, EnvReader } from '../src/config.ts'
import { createKafka, ensureTopics, pingKafka } from '../src/kafka/client.ts'
import { createLogger } from '../src/logger.ts'

// What the health probe and the start ask Kafka: the metadata of the service's own topics, never
// the whole cluster's (kafkajs sends an empty topic list as "every topic"). Against a real broker,
// with more topics on it than the service's, read through kafkajs' request events: the bytes of
// each Metadata answer and how many of them.
const env = isolatedEnv('order', inject('infra').env)
const config = readBaseConfig(new EnvReader(env), { service: 'order', grpcPort: 0, metricsPort: 0, database: 'orderdb' }, 'test')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const run = randomUUID().slice(0, 8)
const ours = [`brewmesh.test.metadata.a.${run}`, `brewmesh.test.metadata.b.${run}`]
const others = Array.from({ length: 20 }, (_, i) => `brewmesh.test.metadata.other${i}.${run}`)
let admin: Admin

/** The sizes of the Metadata answers received while `work` runs. */
async function metadataAnswers(work: () => Promise<unknown>): Promise<number[]> {
  const sizes: number[] = []
  const off = admin.on(admin.events.REQUEST, ({ payload }) => {
    if (payload.apiName === 'Metadata') sizes.push(payload.size)
  })
  try {
    await work()
  } finally {
    off()
  }
  return sizes
}

beforeAll(async () => {
  admin = createKafka(config.kafka, log).admin()
  await admin.connect()
  await ensureTopics(
    admin,
    [...ours, ...others].map((topic) => ({ topic, numPartitions: 3 })),
  )
})
afterAll(async () => {
  await admin.deleteTopics({ topics: [...ours, ...others] }).catch(() => undefined)
  await admin.disconnect()
})

describe('the metadata a service asks Kafka for', () => {
  it("when the health probe pings Kafka, then it asks for its own topics' metadata, a fraction of the cluster's", async () => {
    await pingKafka(admin, ours) // the first call also loads the metadata of these topics
    const cluster = await metadataAnswers(() => admin.describeCluster())
    const ping = await metadataAnswers(() => pingKafka(admin, ours))

    // kafkajs may refresh its cached metadata first: a second request, for the same topics.
    expect(ping.length).toBeGreaterThan(0)
    expect(ping.length).toBeLessThanOrEqual(2)
    // Two topics of 3 partitions against at least 22 topics: the whole cluster's answer is many times larger.
    for (const size of ping) expect(size * 5).toBeLessThan(cluster[0]!)
  })

  it('when a topic it pings does not exist, then the ping fails (the probe reports Kafka degraded)', async () => {
    await expect(pingKafka(admin, [`brewmesh.test.metadata.missing.${run}`])).rejects.toThrow()
  })

  it('when every topic a service needs exists, then ensuring them asks for those topics only and creates nothing', async () => {
    const cluster = await metadataAnswers(() => admin.describeCluster())
    const sizes = await metadataAnswers(() =>
      ensureTopics(
        admin,
        ours.map((topic) => ({ topic, numPartitions: 3 })),
      ),
    )

    expect(sizes.length).toBeGreaterThan(0)
    for (const size of sizes) expect(size * 5).toBeLessThan(cluster[0]!)
  })

  it('when one is missing, then it is created with the partitions asked, next to the existing ones', async () => {
    const fresh = `brewmesh.test.metadata.fresh.${run}`
    try {
      await ensureTopics(
        admin,
        [...ours, fresh].map((topic) => ({ topic, numPartitions: 2 })),
      )
      const { topics } = await admin.fetchTopicMetadata({ topics: [fresh, ...ours] })
      expect(Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]))).toEqual({ [fresh]: 2, [ours[0]!]: 3, [ours[1]!]: 3 })
    } finally {
      await admin.deleteTopics({ topics: [fresh] }).catch(() => undefined)
    }
  })
})
