import type { Meter } from '@opentelemetry/api'
import type { Admin } from 'kafkajs'
import { createTokenVerifier } from './auth/verifier.ts'
import { ConfigError, type BaseConfig, type PostgresConfig } from './config.ts'
import { createDatabase, migrate, poolMetrics, type Database } from './db/postgres.ts'
import { createGrpcServer, type GrpcServer } from './grpc/server.ts'
import { startHealthMonitor, type DependencyCheck, type HealthMonitor } from './health.ts'
import { stopInReverse, type Stoppable } from './lifecycle.ts'
import type { Logger } from './logger.ts'
import { createRateLimiter, type RateLimiter } from './rate-limit.ts'
import { startMetrics } from './telemetry/metrics.ts'
import { closeValkey, createValkey, type Valkey } from './valkey.ts'

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

/**
 * Runs a composition root's build: every part it pushed is stopped in reverse if the build fails
 * half-way, so a failed start leaves no connection or timer behind.
 */
export async function compose<T>(log: Logger, build: (parts: Stoppable[]) => Promise<T>): Promise<T> {
  const parts: Stoppable[] = []
  try {
    return await build(parts)
  } catch (err) {
    await stopInReverse(log, parts)()
    throw err
  }
}

/**
 * The health checks every service runs: PostgreSQL required (NOT_SERVING without it), Valkey and
 * Kafka reported but not required (the service degrades: cache bypass, events wait in the outbox).
 */
export function infrastructureChecks(database: Pick<Database<unknown>, 'ping'>, valkey: Valkey, admin: Admin): DependencyCheck[] {
  return [
    { name: 'postgres', required: true, check: database.ping },
    { name: 'valkey', required: false, check: async () => void (await valkey.ping()) },
    {
      name: 'kafka',
      required: false,
      check: async () => {
        await admin.connect()
        await admin.describeCluster()
      },
    },
  ]
}

/** The connections every service opens first: metrics, PostgreSQL (with pool gauges), Valkey for commands and for BullMQ. */
export async function openInfrastructure<DB>(config: BaseConfig, otlpEndpoint: string | undefined, log: Logger, parts: Stoppable[]) {
  const metrics = await startMetrics({ service: config.service, instanceId: config.instanceId, port: config.metrics.port, otlpEndpoint })
  parts.push({ name: 'metrics', stop: metrics.stop })
  const database = createDatabase<DB>(config.postgres, log)
  poolMetrics(metrics.meter, config.service, database.pool)
  parts.push({ name: 'postgres', stop: database.stop })
  const valkey = createValkey(config.valkey, log, 'commands')
  parts.push({ name: 'valkey', stop: () => closeValkey(valkey) })
  const jobsConnection = createValkey(config.valkey, log, 'jobs')
  parts.push({ name: 'valkey jobs', stop: () => closeValkey(jobsConnection) })
  return {
    meter: metrics.meter,
    metricsPort: metrics.port,
    database,
    valkey,
    jobsConnection,
    /** BullMQ's close waits for Valkey; with Valkey gone there is nothing to close gracefully. */
    jobsUp: () => jobsConnection.status === 'ready',
    /** Where this service's BullMQ queues live. */
    jobsPrefix: `${config.valkey.keyPrefix}:${config.service}`,
  }
}

/**
 * The gRPC side every service ends with: token verification, the server with reflection and
 * health, the per-caller write limit, the health monitor on PostgreSQL / Valkey / Kafka; then
 * listen. Stop order (reverse): NOT_SERVING first so balancers drain, then the server.
 */
export async function serveGrpc(options: {
  config: BaseConfig
  serviceName: string
  healthIntervalMs: number
  meter: Meter
  database: Pick<Database<unknown>, 'ping'>
  valkey: Valkey
  admin: Admin
  log: Logger
  parts: Stoppable[]
  register: (server: GrpcServer, limitWrites: RateLimiter) => void
}): Promise<{ grpcPort: number; health: HealthMonitor }> {
  const { config, meter, valkey, log, parts } = options
  const verifyToken = await createTokenVerifier(config.auth)
  const grpc = createGrpcServer({ service: config.service, ...config.grpc, admission: config.admission, log, meter, verifyToken })
  const limitWrites = createRateLimiter({
    valkey,
    prefix: `${config.valkey.keyPrefix}:`,
    service: config.service,
    config: config.rateLimit,
    meter,
    log,
  })
  options.register(grpc, limitWrites)
  const health = startHealthMonitor({
    health: grpc.health,
    services: [options.serviceName],
    intervalMs: options.healthIntervalMs,
    log,
    checks: infrastructureChecks(options.database, valkey, options.admin),
  })
  const grpcPort = await grpc.listen()
  parts.push({ name: 'grpc server', stop: grpc.stop })
  parts.push({ name: 'health', stop: health.stop })
  await health.refresh()
  return { grpcPort, health }
}
