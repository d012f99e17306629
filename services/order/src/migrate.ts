import { createLogger } from '@brewmesh/runtime/logger'
import { runMigration } from '@brewmesh/runtime/service'
import { migrateOrder } from './app.ts'
import { readConfig } from './config.ts'

// The migration command: run once per release (a Kubernetes Job, `pnpm migrate`), not at every start.
await runMigration(async () => {
  const config = readConfig()
  await migrateOrder(config, createLogger({ level: config.log.level, service: 'order-migrate', instanceId: config.instanceId }))
})
