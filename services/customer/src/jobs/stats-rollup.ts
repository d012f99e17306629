import type { Job, Queue } from 'bullmq'
import type { Logger } from '@brewmesh/runtime/logger'
import { withTimeout } from '@brewmesh/runtime/service'
import { rollup } from '../domain/customer-stats.ts'
import { coalesce } from './coalesce.ts'
import type { StatsStore } from '../domain/ports.ts'
import type { CustomerStats } from '../domain/stats.ts'

export const STATS_QUEUE = 'customer-stats'

/** A customer's rollup; the traceparent (runtime's traced()) continues the trace of the event that caused it. */
export type RollupJob = { customerId: string; traceparent?: string }
export type StatsJob = RollupJob | Record<string, never>

export interface StatsJobSettings {
  /** A burst of events for one customer within this long makes one rollup. */
  debounceMs: number
  /** Facts of orders placed longer ago are archived into monthly aggregates. */
  archiveAfterDays: number
  fullRollupCron: string
  archiveCron: string
}

/**
 * One pending rollup per customer: the job is delayed by the debounce window and deduplicated by
 * customer id, so a burst makes one job. An event that arrives while the customer's rollup is
 * already running queues exactly one more (keepLastIfActive), so no update is lost. The rollups
 * of a chunk of events go to Valkey in one round trip (addBulk). With Valkey away they are not
 * queued then, so the consumer never waits for it: the facts are kept, and the customers are owed
 * a rollup, queued with the next ones or, within `retryEveryMs` of Valkey being back, on their
 * own (a customer whose last events came while Valkey was away would otherwise keep stale
 * statistics until the nightly full rollup). What is owed is kept in memory: a replica that stops
 * meanwhile leaves it to the nightly full rollup.
 */
export function rollupScheduler(queue: Queue<StatsJob>, debounceMs: number, jobsUp: () => boolean, log: Logger, retryEveryMs = 1000) {
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
    const fresh = new Set(rollups.map((r) => r.customerId))
    const all = [...rollups, ...[...owed].filter((id) => !fresh.has(id)).map((customerId) => ({ customerId }))]
    if (all.length === 0) return
    const ids = all.map((r) => r.customerId)
    if (!jobsUp()) {
      owe(ids)
      log.warn({ customers: all.length }, 'rollups not queued: Valkey is away; queued once it is back')
      return
    }
    for (const id of ids) owed.delete(id)
    const queued = queue.addBulk(
      all.map((data) => ({
        name: 'rollup',
        data,
        // Events while the customer's rollup is running leave one follow-up job (not none, not many).
        // A finished rollup is deleted at once: its result is the stats row, and keeping the last
        // thousand cost Valkey a trim per job (failed ones stay, the queue's default).
        opts: { delay: debounceMs, deduplication: { id: `rollup:${data.customerId}`, keepLastIfActive: true }, removeOnComplete: true },
      })),
    )
    await withTimeout(queued, 1000, 'queueing rollups').catch((err: unknown) => {
      owe(ids)
      log.warn({ err: (err as Error).message, customers: all.length }, 'rollups not queued; queued once Valkey answers')
    })
  }
  return schedule
}

/** How many jobs one worker runs at once: the rollups among them are computed together (coalesce). */
export const STATS_CONCURRENCY = 256

/**
 * The processor. `rollup` recomputes one customer, together with the other customers whose rollup
 * jobs are running at the same time (one read of their facts, one of their archives, one write);
 * `full-rollup` recomputes every customer, a page at a time (it repairs whatever drifted: a lost
 * rollup job, a hand-edited row); `archive` folds old facts into monthly aggregates, which leaves
 * every customer's statistics as they were. Every result is published for WatchCustomerStats.
 */
export function statsProcessor(
  store: StatsStore,
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
