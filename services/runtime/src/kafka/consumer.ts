import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs'
import { classify } from '../grpc/status.ts'
import { contextOf, inSpan, SpanKind } from '../telemetry/trace.ts'
import { headerString } from './headers.ts'
import { sleep } from '../lifecycle.ts'
import type { Logger } from '../logger.ts'

/** Thrown by a handler for a message it can never process: it goes to the dead-letter topic. */
export class PoisonMessage extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PoisonMessage'
  }
}

export interface ReceivedMessage {
  topic: string
  partition: number
  message: KafkaMessage
}

export interface ConsumerOptions {
  kafka: Kafka
  groupId: string
  topics: string[]
  handle: (received: ReceivedMessage) => Promise<void>
  log: Logger
  /** Where poison messages go; required unless deadLetter is false. */
  producer?: Producer
  /** false for in-memory fan-out consumers, which log and skip instead. */
  deadLetter?: boolean
  /** Start a new group at the earliest offset (true) or only see new messages (false). */
  fromBeginning?: boolean
  /** Attempts for an unexpected error before the message is dead-lettered. */
  maxAttempts?: number
}

export interface RunningConsumer {
  consumer: Consumer
  /** Resolves once the group is joined and partitions are assigned. */
  ready: Promise<void>
  stop(): Promise<void>
}

export const deadLetterTopic = (topic: string) => `${topic}.dlq`

/**
 * At-least-once consumption: offsets are committed only after a message's handler finished,
 * so handlers must be idempotent (db/outbox.ts markProcessed). A dependency outage is retried
 * with backoff without limit (nothing is skipped); a poison message, or one failing
 * maxAttempts times for an unknown reason, is sent to `<topic>.dlq` with its error, then skipped.
 */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const { kafka, groupId, topics, handle, log } = options
  const maxAttempts = options.maxAttempts ?? 5
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3000, retry: { retries: 10 } })
  let running = true
  let markReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => (markReady = resolve))
  consumer.on(consumer.events.GROUP_JOIN, () => markReady())

  const deadLetter = async (received: ReceivedMessage, err: unknown) => {
    const { topic, partition, message } = received
    if (options.deadLetter === false || !options.producer) {
      log.error({ err, topic, partition, offset: message.offset }, 'skipping unprocessable message')
      return
    }
    await options.producer.send({
      topic: deadLetterTopic(topic),
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            'dlq-original-topic': topic,
            'dlq-original-partition': String(partition),
            'dlq-original-offset': message.offset,
            'dlq-consumer-group': groupId,
            'dlq-error': String((err as Error)?.message ?? err).slice(0, 1000),
          },
        },
      ],
    })
    log.error({ err, topic, partition, offset: message.offset, deadLetterTopic: deadLetterTopic(topic) }, 'message dead-lettered')
  }

  // Each message is handled in a span that continues the trace its producer started.
  const process = (received: ReceivedMessage) =>
    inSpan(
      `${received.topic} process`,
      SpanKind.CONSUMER,
      contextOf(headerString(received.message.headers, 'traceparent')),
      {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': received.topic,
        'messaging.consumer.group.name': groupId,
        'messaging.message.id': headerString(received.message.headers, 'event-id') ?? '',
      },
      () => attempts(received),
    )

  const attempts = async (received: ReceivedMessage) => {
    let attempt = 0
    let backoff = 200
    for (;;) {
      try {
        await handle(received)
        return
      } catch (err) {
        if (err instanceof PoisonMessage) return deadLetter(received, err)
        const known = classify(err)
        const transient = known?.kind === 'unavailable' || known?.kind === 'aborted'
        attempt += transient ? 0 : 1
        if (attempt >= maxAttempts) return deadLetter(received, err)
        if (!running) throw err
        log.warn({ err: (err as Error).message, attempt, transient, offset: received.message.offset }, 'handler failed, retrying')
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 5000)
      }
    }
  }

  await consumer.connect()
  await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true })
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      let last: string | undefined
      try {
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) break
          await process({ topic: batch.topic, partition: batch.partition, message })
          resolveOffset(message.offset)
          last = message.offset
          await heartbeat()
        }
      } finally {
        // One commit per batch: a crash before it re-delivers, which idempotent handlers absorb.
        if (last !== undefined) {
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }])
        }
      }
    },
  })
  return {
    consumer,
    ready,
    async stop() {
      running = false
      await consumer.disconnect()
    },
  }
}
