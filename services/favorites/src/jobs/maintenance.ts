import type { FavoritesStore } from '../domain/ports.ts'

export const MAINTENANCE_QUEUE = 'favorites-maintenance'

export interface RetentionConfig {
  /** Tombstones are kept this long so devices and watchers can replay removals (contract: at least 30). */
  tombstoneDays: number
  /** AddFavorite request ids and SyncFavorites change ids are remembered this long (contract: at least 7). */
  idempotencyDays: number
  /** When the daily clean-up runs (UTC cron). */
  maintenanceCron: string
}

export interface MaintenanceResult {
  tombstones: number
  idempotencyKeys: number
}

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000)

/**
 * The daily clean-up: old tombstones (advancing each customer's replay horizon) and old
 * idempotency keys (the outbox has runtime's own purge). Idempotent: a second run at the same
 * time deletes nothing.
 */
export async function runMaintenance(store: FavoritesStore, retention: RetentionConfig, now: Date): Promise<MaintenanceResult> {
  const tombstones = await store.pruneTombstones(daysBefore(now, retention.tombstoneDays))
  const idempotencyKeys = await store.pruneIdempotencyKeys(daysBefore(now, retention.idempotencyDays))
  return { tombstones, idempotencyKeys }
}
