import type { Queue } from 'bullmq'

export const OUTBOX_PURGE_QUEUE = 'loyalty-outbox-purge'
const SCHEDULER_ID = 'outbox-purge-daily'

/** One scheduler per queue, whatever the replica count: upsert replaces, never duplicates. */
export async function scheduleOutboxPurge(queue: Queue, cron: string): Promise<void> {
  await queue.upsertJobScheduler(SCHEDULER_ID, { pattern: cron, tz: 'UTC' }, { name: 'purge' })
}
