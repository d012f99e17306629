import { ConfigError } from '@brewmesh/runtime/config.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'
import { migrateOrder } from './app.ts'
import { readConfig } from './config.ts'

// The migration command: run once per release (a Kubernetes Job, `pnpm migrate`), not at every start.
try {
  const config = readConfig()
  await migrateOrder(config, createLogger({ level: config.log.level, service: 'order-migrate', instanceId: config.instanceId }))
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(err instanceof ConfigError ? 2 : 1)
}
