import type { Queue } from 'bullmq'
import type { Kysely } from 'kysely'
import { purgeOutbox } from '@brewmesh/runtime/db/outbox.ts'
import type { FavoritesStore } from '../domain/ports.ts'

export const MAINTENANCE_QUEUE = 'favorites-maintenance'
const SCHEDULER_ID = 'maintenance-daily'

export interface RetentionConfig {
  /** Tombstones are kept this long so devices and watchers can replay removals (contract: at least 30). */
  tombstoneDays: number
  /** AddFavorite request ids and SyncFavorites change ids are remembered this long (contract: at least 7). */
  idempotencyDays: number
  /** Published outbox rows and processed event ids are kept this long. */
  outboxDays: number
  cron: string
}

export interface MaintenanceResult {
  tombstones: number
  idempotencyKeys: number
  outboxRows: number
  processedEvents: number
}

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000)

/**
 * The daily clean-up: old tombstones (advancing each customer's replay horizon), old idempotency
 * keys, published outbox rows. Idempotent: a second run at the same time deletes nothing.
 */
export async function runMaintenance<DB>(
  store: FavoritesStore,
  db: Kysely<DB>,
  retention: RetentionConfig,
  now: Date,
): Promise<MaintenanceResult> {
  const tombstones = await store.pruneTombstones(daysBefore(now, retention.tombstoneDays))
  const idempotencyKeys = await store.pruneIdempotencyKeys(daysBefore(now, retention.idempotencyDays))
  const outbox = await purgeOutbox(db, retention.outboxDays, now)
  return { tombstones, idempotencyKeys, ...outbox }
}

/** One scheduler per queue, whatever the replica count: upsert replaces, never duplicates. */
export async function scheduleMaintenance(queue: Queue, cron: string): Promise<void> {
  await queue.upsertJobScheduler(SCHEDULER_ID, { pattern: cron, tz: 'UTC' }, { name: 'maintenance' })
}
