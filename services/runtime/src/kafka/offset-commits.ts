import type { Consumer } from 'kafkajs'
import type { Logger } from '../logger.ts'

/**
 * Offsets of applied chunks, committed together at most every `intervalMs` instead of one commit
 * request per chunk. Under load a consumer group applies a small chunk per partition per fetch, and
 * a commit per chunk was a broker request as costly as the fetch itself. Committing later is safe:
 * an offset is only ever recorded after its chunk was applied, and what a crash re-delivers (at most
 * `intervalMs` of messages) finds its event ids already recorded and changes nothing.
 */
export interface OffsetCommits {
  /** The chunk ending at `offset` of this partition is applied. */
  applied(topic: string, partition: number, offset: string): void
  /** Commits what is pending now (before the consumer stops). */
  flush(): Promise<void>
  /** Forgets pending offsets (the group rebalanced: they may belong to another member now). */
  forget(): void
  stop(): void
}

export function offsetCommits(consumer: Pick<Consumer, 'commitOffsets'>, intervalMs: number, log: Logger): OffsetCommits {
  let pending = new Map<string, { topic: string; partition: number; offset: string }>()
  let inFlight: Promise<void> = Promise.resolve()
  const flush = () => {
    if (pending.size === 0) return inFlight
    const offsets = [...pending.values()]
    pending = new Map()
    inFlight = inFlight
      .then(() => consumer.commitOffsets(offsets))
      .catch((err: unknown) => {
        // A rebalance or a broker away: the next owner re-reads from the last committed offset, and
        // what it re-reads is already recorded as applied.
        log.warn({ err: (err as Error).message, partitions: offsets.length }, 'could not commit offsets; they are re-delivered and skipped')
      })
    return inFlight
  }
  const timer = intervalMs > 0 ? setInterval(() => void flush(), intervalMs) : undefined
  timer?.unref()
  return {
    applied(topic, partition, offset) {
      // The committed offset is the next one to read.
      pending.set(`${topic}\u0000${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() })
      if (!timer) void flush()
    },
    flush,
    forget: () => void (pending = new Map()),
    stop: () => clearInterval(timer),
  }
}
