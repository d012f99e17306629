// The service area of runtime: how a service is declared, started, migrated and run from main.ts.
export { startService, type StartOptions } from './start.ts'
export {
  served,
  type Consumption,
  type Infrastructure,
  type Job,
  type RunningService,
  type Served,
  type ServiceDeclaration,
} from './declaration.ts'
export { runMigration, runService, migrateSchema } from '../service.ts'
export { lazy, sleep, stopInReverse, withTimeout, type Stoppable } from '../lifecycle.ts'
