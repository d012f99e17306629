import { ConfigError, type PostgresConfig } from './config.ts'
import { createDatabase, migrate } from './db/postgres.ts'
import type { Logger } from './logger.ts'

/** The parts every service's main.ts needs from its app. */
export interface Runnable {
  log: Logger
  stop(): Promise<void>
}

const exitOn = (err: unknown): never => {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(err instanceof ConfigError ? 2 : 1)
}

/**
 * A service's main: start, then stop gracefully on SIGTERM or SIGINT. A configuration problem
 * exits 2 with every problem named; anything else that stops the start exits 1.
 */
export async function runService(start: () => Promise<Runnable>): Promise<void> {
  try {
    const app = await start()
    let stopping = false
    const shutdown = (signal: string) => {
      if (stopping) return
      stopping = true
      app.log.info({ signal }, 'shutting down')
      app.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'shutdown failed')
          process.exit(1)
        },
      )
    }
    process.on('SIGTERM', () => shutdown('SIGTERM'))
    process.on('SIGINT', () => shutdown('SIGINT'))
  } catch (err) {
    exitOn(err)
  }
}

/** A service's migration command: run once per release (a Kubernetes Job, `pnpm migrate`), not at every start. */
export async function runMigration(run: () => Promise<void>): Promise<void> {
  try {
    await run()
  } catch (err) {
    exitOn(err)
  }
}

/** Applies a service's migrations to its schema with a connection of its own. */
export async function migrateSchema(config: PostgresConfig, migrationsFolder: string, log: Logger): Promise<void> {
  const database = createDatabase<unknown>(config, log)
  try {
    await migrate(database.db, config.schema, migrationsFolder, log)
  } finally {
    await database.stop()
  }
}
