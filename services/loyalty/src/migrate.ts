import { createLogger } from '@brewmesh/runtime/logger'
import { runMigration } from '@brewmesh/runtime/service'
import { migrateLoyalty } from './app.ts'
import { readConfig } from './config.ts'

// The migration command: run once per release (a Kubernetes Job, `pnpm migrate`), not at every start.
await runMigration(async () => {
  const config = readConfig()
  await migrateLoyalty(config, createLogger({ level: config.log.level, service: 'loyalty-migrate', instanceId: config.instanceId }))
})
