import { sql, type Kysely } from 'kysely'
import type { Queue } from 'bullmq'

export const OUTBOX_PURGE_QUEUE = 'customer-outbox-purge'
const SCHEDULER_ID = 'outbox-purge-daily'

export interface PurgeResult {
  outboxRows: number
  processedEvents: number
}

/**
 * Deletes outbox rows published more than `days` ago and processed-event ids older than that.
 * Idempotent: a second run for the same cut-off deletes nothing.
 */
export async function purgeOutbox<DB>(db: Kysely<DB>, days: number, now: Date): Promise<PurgeResult> {
  const cutoff = new Date(now.getTime() - days * 86_400_000)
  const outbox = await sql`delete from outbox where published_at is not null and published_at < ${cutoff}`.execute(db)
  const processed = await sql`delete from processed_events where processed_at < ${cutoff}`.execute(db)
  return { outboxRows: Number(outbox.numAffectedRows ?? 0n), processedEvents: Number(processed.numAffectedRows ?? 0n) }
}

/** One scheduler per queue, whatever the replica count: upsert replaces, never duplicates. */
export async function scheduleOutboxPurge(queue: Queue, cron: string): Promise<void> {
  await queue.upsertJobScheduler(SCHEDULER_ID, { pattern: cron, tz: 'UTC' }, { name: 'purge' })
}
