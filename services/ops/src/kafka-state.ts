import type { Admin } from 'kafkajs'

export interface GroupLag {
  group: string
  topic: string
  /** Messages in the topic after the group's committed offsets, summed over partitions. */
  lag: number
}

export interface DeadLetters {
  /** The dead-letter topic (`<topic>.dlq`). */
  topic: string
  /** The topic whose consumers dead-lettered them. */
  origin: string
  /** Messages the topic holds (high watermark minus low watermark, summed over partitions). */
  messages: number
}

type Watermarks = Map<number, { low: number; high: number }>

async function watermarks(admin: Admin, topic: string): Promise<Watermarks> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]))
}

/**
 * Lag of every consumer group that keeps offsets on the deployment's topics: per partition, the
 * high watermark minus the committed offset (a partition the group never committed counts from
 * the low watermark, since a durable group starts from the beginning). Read from the broker, not
 * from the consumers, so a consumer that is stuck or gone still shows its lag growing. Per-replica
 * groups commit nothing and do not appear.
 */
export async function consumerLag(admin: Admin, wanted: (topic: string) => boolean): Promise<GroupLag[]> {
  const { groups } = await admin.listGroups()
  const marks = new Map<string, Promise<Watermarks>>()
  const marksOf = (topic: string) => {
    let m = marks.get(topic)
    if (!m) marks.set(topic, (m = watermarks(admin, topic)))
    return m
  }
  const lags: GroupLag[] = []
  for (const { groupId } of groups.filter((g) => g.protocolType === 'consumer' || g.protocolType === '')) {
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId })) {
      if (!wanted(topic)) continue
      const topicMarks = await marksOf(topic)
      let lag = 0
      for (const p of partitions) {
        const m = topicMarks.get(p.partition)
        if (!m) continue
        const committed = Number(p.offset)
        lag += Math.max(0, m.high - (committed < 0 ? m.low : committed))
      }
      lags.push({ group: groupId, topic, lag })
    }
  }
  return lags
}

/** How many messages each of the deployment's dead-letter topics holds. */
export async function deadLetterSizes(admin: Admin, wanted: (topic: string) => boolean): Promise<DeadLetters[]> {
  const topics = (await admin.listTopics()).filter((t) => t.endsWith('.dlq') && wanted(t))
  return Promise.all(
    topics.map(async (topic) => {
      let messages = 0
      for (const m of (await watermarks(admin, topic)).values()) messages += m.high - m.low
      return { topic, origin: topic.slice(0, -'.dlq'.length), messages }
    }),
  )
}
