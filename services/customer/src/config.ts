import { hostname } from 'node:os'
import { EnvReader, freeze, readBaseConfig, type BaseConfig } from '@brewmesh/runtime/config'
import type { StatsJobSettings } from './jobs/stats-rollup.ts'

export interface CustomerConfig extends BaseConfig {
  /** How long a customer stays in Valkey (`<VALKEY_KEY_PREFIX>:customer:{id}`) after a read filled it. */
  cache: { ttlSeconds: number }
  /** The statistics jobs: rollup debounce, archive age, and the nightly full rollup and archive schedules. */
  stats: StatsJobSettings
}

/** The Customer service's configuration, read once from the environment, validated and frozen. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): CustomerConfig {
  const reader = new EnvReader(env)
  const base = readBaseConfig(reader, { service: 'customer', grpcPort: 50052, metricsPort: 9462, database: 'customerdb' }, hostname())
  const config: CustomerConfig = {
    ...base,
    cache: { ttlSeconds: reader.int('CACHE_TTL_SECONDS', 300, { min: 1, max: 86_400 }) },
    stats: {
      debounceMs: reader.int('STATS_ROLLUP_DEBOUNCE_MS', 500, { min: 0, max: 60_000 }),
      archiveAfterDays: reader.int('STATS_ARCHIVE_AFTER_DAYS', 400, { min: 1, max: 3650 }),
      fullRollupCron: reader.string('STATS_FULL_ROLLUP_CRON', '7 2 * * *'),
      archiveCron: reader.string('STATS_ARCHIVE_CRON', '47 2 * * *'),
    },
  }
  reader.done()
  return freeze(config)
}
