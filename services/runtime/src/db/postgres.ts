import { promises as fs } from 'node:fs'
import path from 'node:path'
import { Kysely, PostgresDialect, sql, type PostgresPool } from 'kysely'
import { FileMigrationProvider, Migrator } from 'kysely/migration'
import pg from 'pg'
import type { Meter } from '@opentelemetry/api'
import type { PostgresConfig } from '../config.ts'
import { AppError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { ownSchemaDialect } from './own-schema.ts'
import { sendStatements } from './send-statements.ts'

export interface Database<DB> {
  db: Kysely<DB>
  pool: pg.Pool
  ping(): Promise<void>
  stop(): Promise<void>
}

/** A pooled kysely instance whose search_path (and introspection) is the service's own schema. */
export function createDatabase<DB>(config: PostgresConfig, log: Logger): Database<DB> {
  const pool = new pg.Pool({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password,
    max: config.poolMax,
    connectionTimeoutMillis: config.acquireTimeoutMs,
    idleTimeoutMillis: 30_000,
    options: `-c search_path=${config.schema},public`,
    application_name: `brewmesh-${config.schema}`,
  })
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle postgres client error'))
  // A checked-out client whose server goes away between queries (an open transaction waiting
  // on Kafka, a LISTEN connection) emits 'error' too; unhandled, that would crash the process.
  // The operation using it fails on its own and the pool discards the client.
  pool.on('connect', (client) => client.on('error', (err) => log.warn({ err: err.message }, 'postgres connection lost')))
  const db = new Kysely<DB>({ dialect: ownSchemaDialect(new PostgresDialect({ pool: boundedPool(pool, config) }), config.schema) })
  return {
    db,
    pool,
    async ping() {
      await sql`select 1`.execute(db)
    },
    async stop() {
      await db.destroy()
    },
  }
}

const exhausted = (pool: pg.Pool, cause?: unknown) =>
  new AppError(
    'resource_exhausted',
    `the database connection pool is exhausted (${pool.totalCount} connections in use, ${pool.waitingCount} queries waiting); retry later`,
    [],
    { cause, retryDelayMs: 250 },
  )

/**
 * The pool as kysely sees it, with a bounded wait: past poolMaxWaiting queued queries a query is
 * refused at once, and one that times out waiting while every connection is busy is reported as
 * what it is, an exhausted pool (RESOURCE_EXHAUSTED), not an unavailable database.
 */
function boundedPool(pool: pg.Pool, config: PostgresConfig): PostgresPool {
  const full = () => pool.totalCount >= config.poolMax && pool.idleCount === 0
  return {
    async connect() {
      if (full() && pool.waitingCount >= config.poolMaxWaiting) throw exhausted(pool)
      try {
        const client = await pool.connect()
        sendStatements(client, config.preparedStatements)
        return client
      } catch (err) {
        if (full() && /timeout exceeded when trying to connect/i.test((err as Error).message)) throw exhausted(pool, err)
        throw err
      }
    },
    end: () => pool.end(),
    options: pool.options,
  }
}

/** Applies the service's migrations (idempotent), creating its schema first. */
export async function migrate(db: Kysely<unknown>, schema: string, migrationsFolder: string, log: Logger): Promise<void> {
  await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
  const migrator = new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: migrationsFolder }),
    migrationTableSchema: schema,
  })
  const { error, results } = await migrator.migrateToLatest()
  for (const r of results ?? []) log.info({ migration: r.migrationName, status: r.status }, 'migration')
  if (error) throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`)
}

/** Connection pool gauges: <service>_db_pool_connections{state="total|idle|waiting"} (waiting: queries queued for a connection). */
export function poolMetrics(meter: Meter, service: string, pool: pg.Pool): void {
  meter
    .createObservableGauge(`${service}_db_pool_connections`, { description: 'PostgreSQL pool connections by state' })
    .addCallback((result) => {
      result.observe(pool.totalCount, { state: 'total' })
      result.observe(pool.idleCount, { state: 'idle' })
      result.observe(pool.waitingCount, { state: 'waiting' })
    })
}
