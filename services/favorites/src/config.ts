import { hostname } from 'node:os'
import { EnvReader, freeze, readBaseConfig, type BaseConfig } from '@brewmesh/runtime/config'
import type { RetentionConfig } from './jobs/maintenance.ts'

export interface FavoritesConfig extends BaseConfig {
  /** Days of completed orders the learned usual is counted over. */
  usual: { windowDays: number }
  retention: BaseConfig['retention'] & RetentionConfig
}

/** The Favorites service's configuration, read once from the environment, validated and frozen. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): FavoritesConfig {
  const reader = new EnvReader(env)
  const base = readBaseConfig(reader, { service: 'favorites', grpcPort: 50054, metricsPort: 9464, database: 'favoritesdb' }, hostname())
  const config: FavoritesConfig = {
    ...base,
    usual: { windowDays: reader.int('USUAL_WINDOW_DAYS', 30, { min: 1, max: 366 }) },
    retention: {
      ...base.retention,
      tombstoneDays: reader.int('TOMBSTONE_RETENTION_DAYS', 30, { min: 30, max: 3650 }),
      idempotencyDays: reader.int('IDEMPOTENCY_RETENTION_DAYS', 7, { min: 7, max: 365 }),
      maintenanceCron: reader.string('MAINTENANCE_CRON', '27 3 * * *'),
    },
  }
  reader.done()
  return freeze(config)
}
