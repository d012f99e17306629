import { randomUUID } from 'node:crypto'
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs'
import { deadLetterTopic } from '@brewmesh/runtime/kafka'
import { headerString } from '@brewmesh/runtime/kafka'
import { decodeEvent } from './contracts.ts'

/** A dead-lettered message, as an operator reads it. */
export interface DeadLetter {
  /** Where it is in the dead-letter topic: what `replay` is given (`<partition>:<offset>`). */
  position: string
  key: string | undefined
  /** Where the consumer read it, and which consumer group gave up on it. */
  origin: { topic: string; partition: number; offset: string; group: string }
  error: string
  eventType: string | undefined
  eventId: string | undefined
  /** The payload decoded from the contracts, or why it could not be. */
  decoded: { event: unknown } | { undecodable: string }
  /** Set when it was itself a replay (a message dead-lettered again). */
  replayedFrom: string | undefined
  message: KafkaMessage
}

const DLQ_HEADERS = ['dlq-original-topic', 'dlq-original-partition', 'dlq-original-offset', 'dlq-consumer-group', 'dlq-error']

/** The dead-letter topic of an event topic, named with or without the deployment suffix. */
export function deadLetterTopicOf(topic: string, suffix: string): string {
  const base = topic.endsWith('.dlq') ? topic.slice(0, -'.dlq'.length) : topic
  return deadLetterTopic(suffix && !base.endsWith(suffix) ? `${base}${suffix}` : base)
}

/**
 * Everything a dead-letter topic holds, oldest first, read without a consumer group of its own:
 * nothing is committed, so listing changes nothing (the broker drops the empty group when the
 * reader leaves).
 */
export async function readDeadLetters(kafka: Kafka, topic: string, suffix: string): Promise<DeadLetter[]> {
  const admin = kafka.admin()
  await admin.connect()
  const marks = await (async () => {
    // Asking for the offsets of a topic that does not exist retries for a minute, then fails obscurely.
    if (!(await admin.listTopics()).includes(topic)) throw new Error(`there is no topic ${topic} (check KAFKA_TOPIC_SUFFIX)`)
    return admin.fetchTopicOffsets(topic)
  })().finally(() => admin.disconnect())
  const pending = new Map(marks.filter((m) => Number(m.high) > Number(m.low)).map((m) => [m.partition, BigInt(m.high) - 1n]))
  if (pending.size === 0) return []
  const letters: DeadLetter[] = []
  const consumer = kafka.consumer({ groupId: `brewmesh-ops-dlq-${randomUUID()}`, maxWaitTimeInMs: 500 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic}: not read to its end in 60 s`)), 60_000)
      const finish = () => (clearTimeout(timer), resolve())
      consumer.on(consumer.events.CRASH, ({ payload }) => (clearTimeout(timer), reject(payload.error)))
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const last = pending.get(partition)
            if (last === undefined || BigInt(message.offset) > last) return
            letters.push(deadLetterOf(partition, message, suffix))
            if (BigInt(message.offset) === last) pending.delete(partition)
            if (pending.size === 0) finish()
          },
        })
        .catch(reject)
    })
  } finally {
    await consumer.disconnect()
  }
  return letters.sort((a, b) => a.position.localeCompare(b.position, 'en', { numeric: true }))
}

function deadLetterOf(partition: number, message: KafkaMessage, suffix: string): DeadLetter {
  const h = (name: string) => headerString(message.headers, name)
  const originTopic = h('dlq-original-topic') ?? ''
  return {
    position: `${partition}:${message.offset}`,
    key: message.key?.toString(),
    origin: {
      topic: originTopic,
      partition: Number(h('dlq-original-partition') ?? -1),
      offset: h('dlq-original-offset') ?? '',
      group: h('dlq-consumer-group') ?? '',
    },
    error: h('dlq-error') ?? '',
    eventType: h('event-type'),
    eventId: h('event-id'),
    decoded: decodeEvent(originTopic, suffix, message.value),
    replayedFrom: h('dlq-replayed-from'),
    message,
  }
}

/**
 * Sends the chosen dead letters back to the topic they came from, as they were (key, value, the
 * producer's headers; the dead-letter headers dropped, `dlq-replayed-from` added). Safe to repeat:
 * durable consumers record each event id with its effect (claimEvents), so an event applied before
 * is skipped and a replayed one is applied once, however often it is replayed. Returns what was
 * sent; a position that is not in the topic fails before anything is sent.
 */
export async function replayDeadLetters(kafka: Kafka, topic: string, suffix: string, positions: readonly string[]): Promise<DeadLetter[]> {
  const letters = await readDeadLetters(kafka, topic, suffix)
  const chosen = positions.map((p) => {
    const letter = letters.find((l) => l.position === p)
    if (!letter) throw new Error(`${topic} has no message at ${p} (positions are <partition>:<offset>, as listed)`)
    if (!letter.origin.topic) throw new Error(`${topic} ${p} does not say where it came from (no dlq-original-topic header)`)
    return letter
  })
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    for (const letter of chosen) {
      const headers: IHeaders = { ...letter.message.headers, 'dlq-replayed-from': `${topic}/${letter.position}` }
      for (const name of DLQ_HEADERS) delete headers[name]
      await producer.send({
        topic: letter.origin.topic,
        messages: [{ key: letter.message.key, value: letter.message.value, headers }],
      })
    }
  } finally {
    await producer.disconnect()
  }
  return chosen
}
