import type { Queue } from 'bullmq'
import { expireInactive, type ExpiryRun } from '../domain/expiry.ts'
import type { LoyaltyDeps } from '../domain/ports.ts'

export const POINTS_EXPIRY_QUEUE = 'loyalty-points-expiry'
const SCHEDULER_ID = 'points-expiry-daily'

/** The processor: expires balances inactive for the configured period before the clock's now. */
export const processPointsExpiry = (deps: LoyaltyDeps) => (): Promise<ExpiryRun> => expireInactive(deps, deps.clock())

/** One scheduler per queue, whatever the replica count: upsert replaces, never duplicates. */
export async function schedulePointsExpiry(queue: Queue, cron: string): Promise<void> {
  await queue.upsertJobScheduler(SCHEDULER_ID, { pattern: cron, tz: 'UTC' }, { name: 'expire' })
}
