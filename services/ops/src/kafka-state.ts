import type { Admin } from 'kafkajs'
import { mapBounded } from './bounded.ts'

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

/** One read of the broker: what the exporter serves until the next. */
export interface KafkaState {
  lags: GroupLag[]
  deadLetters: DeadLetters[]
  /** Consumer groups whose offsets were fetched (all of the broker's), for the logs. */
  groupsRead: number
}

type Watermarks = Map<number, { low: number; high: number }>

/**
 * Reads consumer lag and dead-letter sizes on `topics` (the deployment's) in a bounded number of
 * round trips: the topic list once, each topic's watermarks once (shared by every group), the
 * group list once, then each group's committed offsets, `concurrency` groups at a time.
 *
 * Every consumer group is asked, whatever its name. Neither cheaper filter is sound: a group
 * whose consumers are gone (state Empty, the case the lag alerts exist for) has no members for
 * describeGroups to show its topics, and the durable-group naming (`<consumer><suffix>`,
 * runtime/src/service/start.ts) tells nothing when the suffix is empty, as in a real deployment,
 * nor covers groups made by hand. Offsets are small answers; 1018 groups take about 0.5 s.
 */
export async function readKafkaState(admin: Admin, topics: readonly string[], concurrency = 8): Promise<KafkaState> {
  // Only topics that exist: kafkajs retries the offsets of a missing topic for half a minute.
  const existing = new Set(await admin.listTopics())
  const marks = new Map(await Promise.all(topics.filter((t) => existing.has(t)).map(async (t) => [t, await watermarks(admin, t)] as const)))
  const { groups } = await admin.listGroups()
  // Groups of Kafka Connect and other protocols keep no consumer offsets; '' is a group made by setOffsets.
  const ids = groups.filter((g) => g.protocolType === 'consumer' || g.protocolType === '').map((g) => g.groupId)
  const lags = await mapBounded(ids, concurrency, async (groupId) => {
    const committed = await admin.fetchOffsets({ groupId })
    return committed.flatMap(({ topic, partitions }) => {
      const topicMarks = marks.get(topic)
      return topicMarks ? [{ group: groupId, topic, lag: lagOf(topicMarks, partitions) }] : []
    })
  })
  const deadLetters = [...marks]
    .filter(([topic]) => topic.endsWith('.dlq'))
    .map(([topic, m]) => ({ topic, origin: topic.slice(0, -'.dlq'.length), messages: sum([...m.values()].map((p) => p.high - p.low)) }))
  return { lags: lags.flat(), deadLetters, groupsRead: ids.length }
}

async function watermarks(admin: Admin, topic: string): Promise<Watermarks> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]))
}

/**
 * Per partition, the high watermark minus the committed offset. The broker reads the lag, not the
 * consumers, so a consumer that is stuck or gone still shows it growing. A partition the group
 * never committed counts from the low watermark (a durable group starts from the beginning), and
 * so does an offset below it (retention removed what it pointed at).
 */
function lagOf(marks: Watermarks, committed: { partition: number; offset: string }[]): number {
  const offsets = new Map(committed.map((p) => [p.partition, Number(p.offset)]))
  return sum([...marks].map(([partition, { low, high }]) => Math.max(0, high - Math.max(low, offsets.get(partition) ?? -1))))
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
