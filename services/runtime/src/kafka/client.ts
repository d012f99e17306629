import { Kafka, logLevel, Partitioners, type Admin, type ITopicConfig, type LogEntry } from 'kafkajs'
import type { KafkaConfig } from '../config.ts'
import type { Logger } from '../logger.ts'
import { levelOf } from './log-levels.ts'

/** A kafkajs client logging through pino. kafkajs stays behind runtime/kafka/ only. */
export function createKafka(config: KafkaConfig, log: Logger): Kafka {
  const kafkaLog = log.child({ component: 'kafka' })
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry
        kafkaLog[levelOf(level, entry)](rest, message)
      },
  })
}

/**
 * Producer settings for the outbox relay: one request in flight, so a partition's messages keep
 * their order through retries. Delivery is at-least-once by design (a row is re-sent until it is
 * marked published; consumers dedupe by event id), so kafkajs' idempotent mode, which wants
 * unlimited retries, would add nothing but a relay stuck inside one send during an outage.
 */
export function createProducer(kafka: Kafka) {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: false,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: 3 },
  })
}

/** The name a topic has in this deployment (tests append a suffix to isolate runs). */
/** Partitions of every topic a service creates (dead-letter topics have one). */
export const TOPIC_PARTITIONS = 6

export const topicName = (config: KafkaConfig, base: string) => base + config.topicSuffix

/**
 * Whether the brokers answer: the metadata of these topics (the service's own), one small request.
 * Not `describeCluster()` or `listTopics()`: kafkajs sends their empty topic list as null, which
 * Kafka reads as "every topic", and decodes the whole cluster's metadata on each call (on a broker
 * holding 2,000 topics, about 25 MB allocated per call: a service probing every 2 s kept most of
 * its idle CPU and old-generation growth there). With no topics, `describeCluster()` it is.
 */
export async function pingKafka(admin: Admin, topics: string[]): Promise<void> {
  if (topics.length === 0) await admin.describeCluster()
  else await admin.fetchTopicMetadata({ topics })
}

/**
 * Creates missing topics and waits for their leaders. Existing topics are left alone. Asks first
 * for these topics only (every start after the first finds them all); the whole list of the
 * cluster's topics only when one is missing or that answer fails.
 */
export async function ensureTopics(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  if (topics.length === 0) return
  const found = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) }).catch(() => undefined)
  if (found?.topics.length === topics.length && found.topics.every((t) => t.partitions.length > 0)) return
  const existing = new Set(await admin.listTopics())
  const missing = topics.filter((t) => !existing.has(t.topic))
  if (missing.length === 0) return
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true })
  } catch (err) {
    // Another replica may have created it between list and create.
    if (String((err as Error).message).includes('already exists')) return
    // Created, but the broker answered the leader check before its metadata knew the topic, and
    // kafkajs gives up on that answer instead of asking again (seen on a busy CI broker): ask here.
    if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err
    await leadersOf(
      admin,
      missing.map((t) => t.topic),
    )
  }
}

/** Waits until every partition of these topics has a leader (at most 10 s). */
async function leadersOf(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const metadata = await admin.fetchTopicMetadata({ topics }).catch(() => undefined)
    if (metadata?.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return
    if (Date.now() > deadline) throw new Error(`no leaders for topics ${topics.join(', ')} after 10 s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
