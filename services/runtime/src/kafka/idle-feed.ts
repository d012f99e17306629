import type { Admin, Consumer, Kafka } from 'kafkajs'
import { withTimeout } from '../lifecycle.ts'
import type { Logger } from '../logger.ts'

/**
 * The listeners a per-replica feed serves (runtime streams' FanOut is one). While there are none,
 * the feed stops fetching; a listener arriving wakes it through the function it was handed.
 */
export interface Audience {
  /** Nobody listens to anything. */
  readonly empty: boolean
  /**
   * The feed hands over how to wake it (resolves once it delivers what happens from then on); the
   * function returned forgets it again, when the feed stops.
   */
  feedBy(resume: () => Promise<void>): () => void
}

export interface IdleFeed {
  /** The group was (re)joined: pause at once when nobody listens, else make sure it fetches. */
  joined(): void
  stop(): Promise<void>
}

export interface IdleFeedOptions {
  kafka: Kafka
  consumer: Consumer
  topics: string[]
  audience: Audience
  log: Logger
  /** How often the audience is looked at; the feed pauses once it was empty at two looks in a row (default 5000). */
  checkEveryMs?: number
  /** Longest wait for the topics' ends when waking; past it the feed wakes where it paused (default 2000). */
  resumeTimeoutMs?: number
}

/**
 * A per-replica feed that does not fetch while nobody listens. Every replica reads every event of
 * its feed's topics (an order's placement and payment, its reward's redemption), and most replicas
 * most of the time have no stream open to hand them to: fetching, decoding and batching them was
 * about 7 % of an order's CPU across the mesh (bench/README.md place-order, thirteenth session).
 *
 * So once nobody has listened for a while (two looks `checkEveryMs` apart) the consumer pauses its
 * topics; it stays in its group, heartbeating, and asks the broker nothing else. The first listener
 * to arrive wakes it: the end of each partition is read (one ListOffsets request), the consumer
 * seeks there and fetches again, and only then does the wake-up resolve. A stream subscribes first,
 * then awaits the wake-up (FanOut.live), then reads its snapshot: whatever it missed was in Kafka
 * before the ends were read, so was committed before the snapshot was read, and every event after
 * the ends reaches it. A stream never sees what happened while the feed slept, as with a feed that
 * never slept. The first event after waking may wait out kafkajs' idle fetch wait (up to a second).
 *
 * When the ends cannot be read in `resumeTimeoutMs` (Kafka unreachable), the feed fetches again
 * from where it paused: a stream may then see events from before it opened, which streams already
 * drop by version (WatchOrder, WatchAccount) or by time (ActivityFeed). The late answer is
 * discarded, so a seek never skips what was delivered meanwhile.
 */
export function pauseWhileUnheard(options: IdleFeedOptions): IdleFeed {
  const { kafka, consumer, topics, audience, log } = options
  const checkEveryMs = options.checkEveryMs ?? 5000
  const resumeTimeoutMs = options.resumeTimeoutMs ?? 2000
  const all = topics.map((topic) => ({ topic }))
  let paused = false
  let waking: Promise<void> | undefined
  let admin: Admin | undefined
  let adminConnected: Promise<void> | undefined

  const pause = () => {
    try {
      consumer.pause(all)
      paused = true
      log.debug({ topics }, 'feed paused: no stream follows it')
    } catch {
      // The consumer is not running (starting, or started again after a crash): GROUP_JOIN decides.
    }
  }

  const fetchAgain = () => {
    try {
      consumer.resume(all)
    } catch {
      // Not running: when it runs again it fetches (a new run starts unpaused, at the topics' end).
    }
    paused = false
  }

  /** The end of every partition of the feed's topics. */
  const ends = async () => {
    admin ??= kafka.admin()
    await (adminConnected ??= admin.connect().catch((err: unknown) => {
      adminConnected = undefined
      throw err
    }))
    const offsets = await Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin!.fetchTopicOffsets(topic) })))
    return offsets.flatMap(({ topic, partitions }) => partitions.map(({ partition, high }) => ({ topic, partition, offset: high })))
  }

  const wake = async () => {
    try {
      // Past the timeout the answer is never applied (withTimeout leaves it to settle unheard).
      for (const seek of await withTimeout(ends(), resumeTimeoutMs, "the topics' ends")) consumer.seek(seek)
    } catch (err) {
      log.warn({ topics, err: (err as Error).message }, "feed woken where it paused: the topics' ends could not be read")
    }
    fetchAgain()
    log.debug({ topics }, 'feed woken: a stream follows it')
  }

  const forget = audience.feedBy(() => {
    if (waking) return waking
    if (!paused) return Promise.resolve()
    waking = wake().finally(() => (waking = undefined))
    return waking
  })

  let emptyAtLastLook = false
  const looking = setInterval(() => {
    if (audience.empty && emptyAtLastLook && !paused && !waking) pause()
    emptyAtLastLook = audience.empty
  }, checkEveryMs)
  looking.unref()

  return {
    joined() {
      if (audience.empty) return pause()
      fetchAgain()
    },
    async stop() {
      forget()
      clearInterval(looking)
      await admin?.disconnect().catch(() => undefined)
    },
  }
}
