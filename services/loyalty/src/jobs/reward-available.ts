import type { Job, Queue } from 'bullmq'
import { withTimeout } from '@brewmesh/runtime/service'
import type { Logger } from '@brewmesh/runtime/logger'
import type { Crossing, LoyaltyDeps } from '../domain/ports.ts'
import { announceReward } from '../domain/reward-available.ts'

export const REWARD_AVAILABLE_QUEUE = 'loyalty-reward-available'
/** How long a change waits, after its commit, for Valkey to take its announcements. */
export const ANNOUNCE_TIMEOUT_MS = 1000

/** BullMQ job ids may not contain ':'; the id is deterministic so one crossing is one job. */
export const crossingJobId = (c: Crossing) => `reward-${c.customerId}-${c.rewardId}-${c.entryId}`

/**
 * deps.announce: one reward-available job per crossing, enqueued after the change committed. The
 * change is done by then, so an announcement that cannot be queued is logged and dropped, never a
 * failure of the change: with BullMQ's connection down nothing is attempted (enqueueing would wait
 * until Valkey is back), and a Valkey that does not answer is given ANNOUNCE_TIMEOUT_MS.
 */
export function announceCrossings(
  queue: Pick<Queue<Crossing>, 'addBulk'>,
  jobsUp: () => boolean,
  log: Logger,
  timeoutMs = ANNOUNCE_TIMEOUT_MS,
) {
  return async (crossings: Crossing[]): Promise<void> => {
    if (crossings.length === 0) return
    if (!jobsUp()) {
      log.warn({ crossings: crossings.length }, 'reward-available jobs not enqueued: Valkey is down')
      return
    }
    const jobs = crossings.map((c) => ({ name: 'reward-available', data: c, opts: { jobId: crossingJobId(c) } }))
    try {
      await withTimeout(queue.addBulk(jobs), timeoutMs, 'valkey')
    } catch (err) {
      log.warn({ err: (err as Error).message, crossings: crossings.length }, 'reward-available jobs not enqueued')
    }
  }
}

/** Job data as it comes back from Valkey: a crossing, or a job nobody should have queued (it fails). */
function crossingOf(data: unknown): Crossing {
  const c = (data ?? {}) as Partial<Record<keyof Crossing, unknown>>
  if (typeof c.customerId !== 'string' || typeof c.rewardId !== 'string' || typeof c.entryId !== 'string') {
    throw new Error('a reward-available job without customerId, rewardId and entryId')
  }
  return { customerId: c.customerId, rewardId: c.rewardId, entryId: c.entryId }
}

/** The processor: publishes RewardAvailable once per crossing (deduplicated in PostgreSQL too). */
export const processRewardAvailable = (deps: LoyaltyDeps) => (job: Job) => announceReward(deps, crossingOf(job.data))
