import type { Job, Queue } from 'bullmq'
import type { Logger } from '@brewmesh/runtime/logger'
import { withTimeout } from '@brewmesh/runtime/service'
import { rollup } from '../domain/customer-stats.ts'
import { coalesce } from './coalesce.ts'
import type { PendingRollups } from './pending-rollups.ts'
import type { StatsStore } from '../domain/ports.ts'
import type { CustomerStats } from '../domain/stats.ts'

export const STATS_QUEUE = 'customer-stats'

/**
 * A customer's rollup as older replicas queued it, one job per customer; still run, so a rolling
 * deploy leaves no such job behind. The traceparent (runtime's traced()) continues the trace of
 * the event that caused it.
 */
export type RollupJob = { customerId: string; traceparent?: string }
/** A sweep: every customer marked as owed a rollup, in pages (jobs/pending-rollups.ts). */
export type SweepJob = { traceparent?: string }
export type StatsJob = RollupJob | SweepJob | Record<string, never>

/** The one pending sweep of the queue: BullMQ deduplicates on it, across replicas. */
const SWEEP = 'rollups'

export interface StatsJobSettings {
  /** Customers marked within this long of a sweep being queued are rolled up together by it. */
  debounceMs: number
  /** Facts of orders placed longer ago are archived into monthly aggregates. */
  archiveAfterDays: number
  fullRollupCron: string
  archiveCron: string
}

/**
 * Rollups owed, swept in batches. A chunk's customers are marked as owed a rollup in Valkey (one
 * round trip), then one sweep job is queued, delayed by the debounce window and deduplicated
 * across replicas, so a burst of events for a customer makes one rollup and the events of every
 * customer within the window make one job (a BullMQ job per customer cost about 50 Valkey
 * commands, twice per order). A mark made while the sweep runs queues exactly one more sweep
 * (keepLastIfActive), and the sweep forgets a mark only at the version it served, so no update is
 * lost. With Valkey away nothing is marked then, so the consumer never waits for it: the facts are
 * kept, and the customers are owed a rollup, marked with the next ones or, within `retryEveryMs` of
 * Valkey being back, on their own (a customer whose last events came while Valkey was away would
 * otherwise keep stale statistics until the nightly full rollup). What is owed is kept in memory: a
 * replica that stops meanwhile leaves it to the nightly full rollup.
 */
export function rollupScheduler(
  queue: Queue<StatsJob>,
  pending: Pick<PendingRollups, 'mark'>,
  debounceMs: number,
  jobsUp: () => boolean,
  log: Logger,
  retryEveryMs = 1000,
) {
  const owed = new Set<string>()
  let retrying: NodeJS.Timeout | undefined
  const owe = (customerIds: readonly string[]) => {
    for (const id of customerIds) owed.add(id)
    retrying ??= setInterval(() => {
      if (owed.size === 0) {
        clearInterval(retrying)
        retrying = undefined
      } else if (jobsUp()) void schedule([])
    }, retryEveryMs).unref()
  }
  const schedule = async (rollups: readonly RollupJob[]): Promise<void> => {
    const ids = [...new Set([...rollups.map((r) => r.customerId), ...owed])]
    if (ids.length === 0) return
    if (!jobsUp()) {
      owe(ids)
      log.warn({ customers: ids.length }, 'rollups not queued: Valkey is away; queued once it is back')
      return
    }
    for (const id of ids) owed.delete(id)
    const traceparent = rollups.find((r) => r.traceparent)?.traceparent
    const queued = pending.mark(ids).then(() =>
      queue.add(SWEEP, traceparent ? { traceparent } : {}, {
        delay: debounceMs,
        // Marks while the sweep runs leave one follow-up sweep (not none, not many). A finished
        // sweep is deleted at once: its results are the stats rows.
        deduplication: { id: SWEEP, keepLastIfActive: true },
        removeOnComplete: true,
      }),
    )
    await withTimeout(queued, 1000, 'queueing rollups').catch((err: unknown) => {
      owe(ids)
      log.warn({ err: (err as Error).message, customers: ids.length }, 'rollups not queued; queued once Valkey answers')
    })
  }
  return schedule
}

/** How many jobs one worker runs at once: the rollups among them are computed together (coalesce). */
export const STATS_CONCURRENCY = 256

/**
 * The processor. `rollups` (the sweep) recomputes every customer marked as owed a rollup, a page
 * of marks at a time (one read of their facts, one of their archives, one write per page), and
 * forgets each mark at the version it served; `rollup` (one customer, as older replicas queued it)
 * recomputes it together with the other customers whose rollup jobs are running at the same time;
 * `full-rollup` recomputes every customer, a page at a time (it repairs whatever drifted: a lost
 * rollup, a hand-edited row); `archive` folds old facts into monthly aggregates, which leaves
 * every customer's statistics as they were. Every result is published for WatchCustomerStats.
 */
export function statsProcessor(
  store: StatsStore,
  pending: Pick<PendingRollups, 'scan' | 'clear'>,
  settings: StatsJobSettings,
  clock: () => Date,
  publish: (stats: CustomerStats) => Promise<void>,
  log: Logger,
) {
  const announce = async (stats: CustomerStats) =>
    publish(stats).catch((err: unknown) =>
      log.warn({ err: (err as Error).message, customerId: stats.customerId }, 'stats update not published'),
    )
  const rollupOne = coalesce((customerIds: string[]) => rollup(store, customerIds, clock()))
  return async (job: Job<unknown>) => {
    switch (job.name) {
      case SWEEP: {
        let customers = 0
        let cursor = '0'
        do {
          const page = await pending.scan(cursor)
          cursor = page.cursor
          const stats = await rollup(
            store,
            page.pending.map((p) => p.customerId),
            clock(),
          )
          await Promise.all(stats.map(announce))
          await pending.clear(page.pending)
          customers += page.pending.length
        } while (cursor !== '0')
        return { customers }
      }
      case 'rollup': {
        const stats = await rollupOne((job.data as RollupJob).customerId)
        await announce(stats)
        return { customerId: stats.customerId, ordersPlaced: stats.ordersPlaced }
      }
      case 'full-rollup': {
        let after = ''
        let customers = 0
        for (;;) {
          const page = await store.customers(after, 500)
          await Promise.all((await rollup(store, page, clock())).map(announce))
          customers += page.length
          if (page.length < 500) return { customers }
          after = page.at(-1) ?? after
        }
      }
      case 'archive': {
        const before = new Date(clock().getTime() - settings.archiveAfterDays * 86_400_000)
        let archived = 0
        for (let n = await store.archiveBefore(before, 1000); n > 0; n = await store.archiveBefore(before, 1000)) archived += n
        return { archived }
      }
      default:
        throw new Error(`unknown job ${job.name}`)
    }
  }
}
