import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs'
import { randomUUID } from 'node:crypto'

/** Reads a topic from the beginning in the background, so tests can look at what was published. */
export async function topicRecorder(brokers: string, topic: string) {
  const kafka = new Kafka({ clientId: 'testkit', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: `testkit-${randomUUID()}` })
  const messages: KafkaMessage[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message)
    },
  })
  return {
    messages,
    stop: () => consumer.disconnect(),
  }
}

/** Produces raw messages (malformed ones, for dead-letter tests). */
export async function produceRaw(
  brokers: string,
  topic: string,
  messages: { key: string; value: Buffer; headers?: Record<string, string> }[],
) {
  const kafka = new Kafka({ clientId: 'testkit', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  try {
    await producer.send({ topic, messages })
  } finally {
    await producer.disconnect()
  }
}

/** Runs `work` with a connected admin client of the broker(s), disconnected afterwards. */
export async function withAdmin<T>(brokers: string, work: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = new Kafka({ clientId: 'testkit', brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 2 } })
  const admin = kafka.admin()
  await admin.connect()
  try {
    return await work(admin)
  } finally {
    await admin.disconnect()
  }
}

/**
 * How far a consumer group is behind, per topic: the end offset of each partition minus the
 * group's committed offset (a partition it never committed counts from the start of the log).
 * Without `topics`, the topics the group has committed offsets for.
 */
export async function groupLag(admin: Admin, groupId: string, topics?: string[]): Promise<Record<string, number>> {
  const lag: Record<string, number> = {}
  const committed = await admin.fetchOffsets({ groupId, topics })
  for (const { topic, partitions } of committed) {
    const ends = await admin.fetchTopicOffsets(topic)
    lag[topic] = ends.reduce((sum, end) => {
      const offset = Number(partitions.find((p) => p.partition === end.partition)?.offset ?? -1)
      return sum + Number(end.high) - (offset < 0 ? Number(end.low) : offset)
    }, 0)
  }
  return lag
}

/** Messages currently in a topic (end minus start offset, over its partitions). */
export async function messagesIn(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)
}
