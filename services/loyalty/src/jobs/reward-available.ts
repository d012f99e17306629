import type { Job, Queue } from 'bullmq'
import type { Crossing, LoyaltyDeps } from '../domain/ports.ts'
import { announceReward } from '../domain/reward-available.ts'

export const REWARD_AVAILABLE_QUEUE = 'loyalty-reward-available'

/** BullMQ job ids may not contain ':'; the id is deterministic so one crossing is one job. */
export const crossingJobId = (c: Crossing) => `reward-${c.customerId}-${c.rewardId}-${c.entryId}`

/** Enqueues one job per crossing (called after the ledger change committed). */
export function enqueueCrossings(queue: Queue<Crossing>) {
  return async (crossings: Crossing[]): Promise<void> => {
    await queue.addBulk(crossings.map((c) => ({ name: 'reward-available', data: c, opts: { jobId: crossingJobId(c) } })))
  }
}

/** The processor: publishes RewardAvailable once per crossing (deduplicated in PostgreSQL too). */
export const processRewardAvailable = (deps: LoyaltyDeps) => (job: Job<Crossing>) => announceReward(deps, job.data)
