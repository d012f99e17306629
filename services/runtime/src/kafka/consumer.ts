import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs'
import { classify } from '../grpc/status.ts'
import { sleep } from '../lifecycle.ts'
import type { Logger } from '../logger.ts'
import type { Traced } from '../traced.ts'
import { chunkGathering } from './chunk-gathering.ts'
import { headerString } from './headers.ts'
import { TOPIC_PARTITIONS } from './client.ts'
import { pauseWhileUnheard, type Audience } from './idle-feed.ts'
import { offsetCommits } from './offset-commits.ts'
import { processSpan, type ProcessSpan } from './process-span.ts'

/** Thrown by decode (or a handler) for a message that can never be applied: it goes to the dead-letter topic. */
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

/** A decoded message of a chunk; `inTrace` runs work in its CONSUMER span, continuing the producer's trace. */
export interface Consumed<T> extends Traced<T> {
  received: ReceivedMessage
}

/** What a consumer does with its messages: decode each, then apply them a chunk at a time. */
export interface BatchHandler<T> {
  /** Reads one message, without I/O; throws PoisonMessage for a message that can never be applied. */
  decode(received: ReceivedMessage): T
  /**
   * Applies a chunk: messages of one topic, from the partitions of one fetch, each partition's in
   * offset order (the order across partitions is not defined, as Kafka's is not). A durable consumer
   * applies the whole chunk in one transaction that records every event id (db/outbox.ts
   * claimEvents), so a redelivered chunk changes nothing. A chunk of one message runs in that
   * message's span; with more, effects that belong to one message run in its `inTrace`.
   */
  handleBatch(items: readonly Consumed<T>[]): Promise<void>
}

export interface ConsumerOptions<T> {
  kafka: Kafka
  groupId: string
  topics: string[]
  handler: BatchHandler<T>
  log: Logger
  /** Where poison messages go; required unless deadLetter is false. */
  producer?: Producer
  /** false for in-memory fan-out consumers, which log and skip instead. */
  deadLetter?: boolean
  /** Start a new group at the earliest offset (true) or only see new messages (false). */
  fromBeginning?: boolean
  /** Attempts for an unexpected error before the message is dead-lettered. */
  maxAttempts?: number
  /** Partitions handed over at once (default: a topic's partitions, all of a fetch), each in its own order; chunks handed over together are applied together. */
  partitionsConsumedConcurrently?: number
  /** Most messages per chunk, and so per transaction (default 200). */
  maxChunk?: number
  /**
   * Commit offsets (default true). A per-replica fan-out consumer starts at the latest offset every
   * time, so it keeps none: an empty group without offsets is removed by the broker as soon as its
   * member leaves, so restarts leave no groups behind.
   */
  commitOffsets?: boolean
  /** Applied offsets are committed together at most this often (default 1000; 0: after every chunk). */
  commitIntervalMs?: number
  /**
   * After a fetch that brought messages and caught up, how long to let the next ones gather before
   * fetching again (default 0: fetch again at once; a backlog is read without pauses). Under load
   * a consumer with no window fetches about once per message, each a broker request and, for a
   * durable group, a transaction; with a window it fetches at most once per window, whatever the
   * rate, and applies what gathered together. A fetch itself answers as soon as one message is
   * there (or after a second with none), so the first message after a quiet spell is not held,
   * and an idle consumer asks the broker once a second, not once per window. At most 1000.
   */
  batchWindowMs?: number
  /**
   * How long the broker waits without hearing from this member before it gives the member's
   * partitions to the others (default 10 000; the broker accepts 6000 and more). The member is
   * heard from after every chunk and, while a chunk is applied, every tenth of this. It is also how
   * long the whole group stops when a member dies without leaving (kill -9, a lost host): the
   * replica started in its place joins at once, and the rebalance that starts waits for the dead
   * member until its session expires, every member's partitions idle meanwhile. After a broker
   * restart the group's last members are loaded with a fresh session, and waited for the same way.
   */
  sessionTimeoutMs?: number
  /** After a crash kafkajs does not recover from itself, how long before the consumer is started again (default 5000). */
  restartAfterMs?: number
  /**
   * For a per-replica feed: the listeners it serves. While there are none it stops fetching, and
   * the first to arrive wakes it at the topics' end (idle-feed.ts).
   */
  audience?: Audience
  /** How often a feed with an audience looks whether anyone listens (default 5000; tests shorten it). */
  idleCheckMs?: number
}

export interface RunningConsumer {
  consumer: Consumer
  /** Resolves once the group is joined and partitions are assigned. */
  ready: Promise<void>
  stop(): Promise<void>
}

export const deadLetterTopic = (topic: string) => `${topic}.dlq`

/** A message's protobuf value, decoded; a missing or unreadable value is a PoisonMessage naming `what`. */
export function decodeOrPoison<T>(received: ReceivedMessage, decoder: { decode(input: Uint8Array): T }, what: string): T {
  const value = received.message.value
  if (!value) throw new PoisonMessage(`${what} without a value`)
  try {
    return decoder.decode(value)
  } catch (err) {
    throw new PoisonMessage(`not a valid ${what}`, { cause: err })
  }
}

/**
 * Whether a consumer that acts on `types` only must decode this message. Every event names its
 * type in the `event-type` header (event.proto: "so tools can route without decoding"), so a
 * consumer ignores the others unread: it never pays for decoding an event it drops. A message
 * without the header may be of any type and is decoded; one whose header names a type the
 * consumer ignores is ignored whatever its value, as a valid event of that type would be.
 */
export function mayBeOf(received: ReceivedMessage, types: ReadonlySet<string>): boolean {
  const type = headerString(received.message.headers, 'event-type')
  return type === undefined || types.has(type)
}

/** The items of a chunk that matter: decode gives undefined for the events a consumer ignores. */
export function relevant<T>(items: readonly Consumed<T | undefined>[]): Traced<T>[] {
  return items.flatMap(({ value, inTrace }) => (value === undefined ? [] : [{ value, inTrace }]))
}

/**
 * One consumer group for several topics, each with its own handler: a chunk always comes from one
 * topic, so it goes whole to that topic's handler.
 */
export function byTopic(handlers: Readonly<Record<string, BatchHandler<unknown>>>): BatchHandler<unknown> {
  const of = (topic: string) => {
    const handler = handlers[topic]
    if (!handler) throw new PoisonMessage(`no handler for topic ${topic}`)
    return handler
  }
  return {
    decode: (received) => of(received.topic).decode(received),
    handleBatch: async (items) => {
      const [first] = items
      if (first) await of(first.received.topic).handleBatch(items)
    },
  }
}

/**
 * A failure of the moment, not of the messages: retried whole, as long as it takes, never counted
 * toward maxAttempts nor split toward the dead-letter topic. A dependency down (UNAVAILABLE), a
 * lost race (ABORTED), and a connection pool with no connection free (RESOURCE_EXHAUSTED, "retry
 * later": under load, sound events were dead-lettered as if they were poison).
 */
const isTransient = (err: unknown) => {
  const kind = classify(err)?.kind
  return kind === 'unavailable' || kind === 'aborted' || kind === 'resource_exhausted'
}

interface Tracked<T> extends Consumed<T> {
  span: ProcessSpan
}

/**
 * At-least-once consumption in chunks, with effects exactly once: a chunk's offset is committed
 * only after its handler finished (its transaction committed), with the others applied in the same
 * second (offset-commits.ts), so a crash re-delivers at most that second, whose recorded event ids
 * make it change nothing. The partitions of a fetch are applied together, each in order
 * (chunk-gathering.ts). A message that does not decode goes to `<topic>.dlq` alone. A chunk failing for a
 * dependency outage is retried whole with backoff, without limit (nothing is skipped); failing for
 * any other reason, it is retried in halves down to single messages, so a poison message reaches
 * the dead-letter topic alone (at once for PoisonMessage, after maxAttempts otherwise) and every
 * other message of the chunk is applied once.
 */
export async function startConsumer<T>(options: ConsumerOptions<T>): Promise<RunningConsumer> {
  const { kafka, groupId, topics, handler, log } = options
  const maxChunk = options.maxChunk ?? 200
  const maxAttempts = options.maxAttempts ?? 5
  const commits = options.commitOffsets ?? true
  // A fetch waits at most a second for data: stopping waits for the fetch in flight (the default
  // five seconds made every consumer's stop take five). The batch window is kept by this side,
  // after a fetch that brought something (eachBatch below): the broker holding every fetch for the
  // window (minBytes) made an idle consumer ask it 1000/window times a second.
  const window = Math.min(Math.max(options.batchWindowMs ?? 0, 0), 1000)
  const sessionTimeout = options.sessionTimeoutMs ?? 10_000
  const restartAfterMs = options.restartAfterMs ?? 5000
  const heartbeatInterval = Math.max(500, Math.floor(sessionTimeout / 10))
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval,
    maxWaitTimeInMs: 1000,
    minBytes: 1,
    retry: { retries: 10 },
  })
  const stopping = new AbortController()
  let markReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => (markReady = resolve))
  const committed = offsetCommits(consumer, options.commitIntervalMs ?? 1000, log)
  const idle =
    options.audience &&
    pauseWhileUnheard({
      kafka,
      consumer,
      topics,
      audience: options.audience,
      log,
      ...(options.idleCheckMs ? { checkEveryMs: options.idleCheckMs } : {}),
    })
  consumer.on(consumer.events.GROUP_JOIN, () => {
    committed.forget()
    idle?.joined()
    markReady()
  })

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

  // Dead-letters one message and ends its span as failed.
  const reject = async (item: { received: ReceivedMessage; span: ProcessSpan }, err: unknown) => {
    await deadLetter(item.received, err)
    item.span.end(err)
  }

  const run = (items: readonly Tracked<T>[]) => {
    const [only] = items
    return items.length === 1 && only ? only.inTrace(() => handler.handleBatch(items)) : handler.handleBatch(items)
  }

  // Applies items (in order) with the retry rules above; returns once each is applied or dead-lettered.
  const apply = async (items: readonly Tracked<T>[], heartbeat: () => Promise<void>): Promise<void> => {
    if (items.length === 0) return
    let attempt = 0
    let backoff = 200
    for (;;) {
      try {
        await run(items)
        for (const item of items) item.span.end()
        return
      } catch (err) {
        for (const item of items) item.span.attemptFailed(err)
        if (stopping.signal.aborted) throw err
        const transient = isTransient(err)
        if (!transient && items.length > 1) {
          log.warn(
            { err: (err as Error).message, messages: items.length, offset: items[0]?.received.message.offset },
            'chunk failed, retrying it in halves',
          )
          const half = Math.ceil(items.length / 2)
          await apply(items.slice(0, half), heartbeat)
          await apply(items.slice(half), heartbeat)
          return
        }
        if (!transient) attempt += 1
        const [only] = items
        if (only && !transient && (err instanceof PoisonMessage || attempt >= maxAttempts)) return reject(only, err)
        log.warn(
          { err: (err as Error).message, attempt, transient, messages: items.length, offset: items[0]?.received.message.offset },
          'handler failed, retrying',
        )
        // A long outage must not cost the partition: the group still hears from this member.
        await heartbeat()
        await sleep(backoff, stopping.signal)
        if (stopping.signal.aborted) throw err
        backoff = Math.min(backoff * 2, 5000)
      }
    }
  }

  // The partitions of a fetch are applied together (chunk-gathering.ts); a retry keeps the group
  // informed through the heartbeat of whichever partition came last (they all beat for one member).
  let beat: () => Promise<void> = async () => undefined
  // A chunk may take longer than the session (a backlog of 200 after a rebalance or an outage, on a
  // busy database, took 3 to 8 s in the fault suite): the group keeps hearing from this member while
  // it applies one, or it would hand the member's partitions to another mid-chunk and have the
  // chunk applied again there. A failed beat is left to the one after the chunk, which rejoins.
  const beating = async (work: () => Promise<void>) => {
    const timer = setInterval(() => void beat().catch(() => undefined), heartbeatInterval)
    try {
      await work()
    } finally {
      clearInterval(timer)
    }
  }
  const gathered = chunkGathering<Tracked<T>>((items) => beating(() => apply(items, () => beat())), maxChunk)

  // Decodes a chunk (poison dead-lettered alone), then applies the rest with the other partitions'.
  const consume = async (topic: string, partition: number, messages: KafkaMessage[], heartbeat: () => Promise<void>) => {
    beat = heartbeat
    const items: Tracked<T>[] = []
    for (const message of messages) {
      const received = { topic, partition, message }
      const span = processSpan(topic, groupId, message)
      try {
        items.push({ received, value: handler.decode(received), inTrace: span.inTrace, span })
      } catch (err) {
        // Decoding has no I/O: whatever it throws, it throws again. Only the dead-letter topic helps.
        await reject({ received, span }, err)
      }
    }
    try {
      await gathered(topic, items)
    } catch (err) {
      for (const item of items) item.span.end(err)
      throw err
    }
  }

  const runConsumer = () =>
    consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? TOPIC_PARTITIONS,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const { topic, partition } = batch
        for (let start = 0; start < batch.messages.length; start += maxChunk) {
          if (!isRunning() || isStale() || stopping.signal.aborted) return
          const chunk = batch.messages.slice(start, start + maxChunk)
          await consume(topic, partition, chunk, heartbeat)
          // Only now, with the chunk applied: a crash before its commit re-delivers it, which recorded event ids absorb.
          const last = chunk[chunk.length - 1]!.offset
          resolveOffset(last)
          if (commits) committed.applied(topic, partition, last)
          await heartbeat()
        }
        // kafkajs fetches again once every partition of this fetch is handled: each one that has
        // caught up waits out the window at the same time, so the next fetch brings what arrived
        // meanwhile, together. One with more waiting (a backlog after an outage) does not wait.
        if (window > 0 && batch.messages.length > 0 && batch.offsetLag() === '0') await sleep(window, stopping.signal)
      },
    })
  // kafkajs starts a crashed consumer again only after an error it calls retriable. A rejoin that
  // meets the broker going down fails with "Failed to find group coordinator", which it does not,
  // and the consumer stayed stopped for good while its replica served on (in the fault suite, both
  // customer-stats members at once: the group fell 2,418 events behind and never caught up). Any
  // such crash starts it again here, every `restartAfterMs` until it runs.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart || stopping.signal.aborted) return
    log.error(
      { err: payload.error.message, groupId },
      `consumer stopped by an error kafkajs does not retry; starting it again in ${restartAfterMs} ms`,
    )
    setTimeout(() => {
      if (stopping.signal.aborted) return
      runConsumer().catch((err: unknown) => log.error({ err: (err as Error).message, groupId }, 'consumer not started again'))
    }, restartAfterMs).unref()
  })

  try {
    await consumer.connect()
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true })
    await runConsumer()
  } catch (err) {
    await idle?.stop() // the next attempt to start gets a feed of its own
    throw err
  }
  return {
    consumer,
    ready,
    async stop() {
      stopping.abort()
      committed.stop()
      await committed.flush()
      await idle?.stop()
      await consumer.disconnect()
    },
  }
}
