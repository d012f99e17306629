import type { HealthStatuses, ServingStatus } from './grpc/health-service.ts'
import type { Logger } from './logger.ts'

/** A dependency probe. Required ones turn the service NOT_SERVING while they fail. */
export interface DependencyCheck {
  name: string
  required: boolean
  check(): Promise<void>
}

/**
 * The health service name a liveness probe checks: SERVING from the start of the monitor until the
 * service stops, whatever its dependencies do. A database outage makes a replica unready (the
 * server's "" and its service name), never restarts it; a process whose event loop is stuck does
 * not answer the Check at all, and that is what the probe's timeout catches.
 */
export const LIVENESS = 'liveness'

export interface HealthMonitor {
  /** Latest result per dependency. */
  readonly dependencies: ReadonlyMap<string, boolean>
  /** Runs every check now (also used at start-up). */
  refresh(): Promise<ServingStatus>
  /** NOT_SERVING for good: load balancers drain this replica before it stops. */
  stop(): Promise<void>
}

/**
 * Probes dependencies on an interval and publishes grpc.health.v1 status for the whole
 * server ("") and for each named service, so Check and Watch follow outages and recoveries.
 * Each dependency also has a status of its own under `dependency/<name>` (e.g.
 * `dependency/valkey`), so a service that stays SERVING without an optional dependency still
 * says what is degraded. `liveness` (LIVENESS) says only that the process runs and answers.
 */
export function startHealthMonitor(options: {
  health: HealthStatuses
  services: string[]
  checks: DependencyCheck[]
  intervalMs: number
  timeoutMs?: number
  log: Logger
}): HealthMonitor {
  const { health, services, checks, log } = options
  const dependencies = new Map<string, boolean>()
  let current: ServingStatus | undefined
  let stopped = false
  health.setStatus(LIVENESS, 'SERVING')

  const publish = (status: ServingStatus) => {
    if (status === current) return
    current = status
    for (const name of ['', ...services]) health.setStatus(name, status)
    log.info({ status, dependencies: Object.fromEntries(dependencies) }, 'health changed')
  }

  const probe = async (c: DependencyCheck) => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('health check timed out')), options.timeoutMs ?? 2000)
    })
    try {
      await Promise.race([c.check(), timeout])
      return true
    } catch (err) {
      if (dependencies.get(c.name) !== false) log.warn({ dependency: c.name, err: (err as Error).message }, 'dependency down')
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  const refresh = async (): Promise<ServingStatus> => {
    const results = await Promise.all(checks.map(probe))
    checks.forEach((c, i) => {
      const ok = results[i] === true
      if (ok && dependencies.get(c.name) === false) log.info({ dependency: c.name }, 'dependency recovered')
      dependencies.set(c.name, ok)
      if (!stopped) health.setStatus(`dependency/${c.name}`, ok ? 'SERVING' : 'NOT_SERVING')
    })
    const status = checks.every((c, i) => !c.required || results[i]) ? 'SERVING' : 'NOT_SERVING'
    if (!stopped) publish(status)
    return status
  }

  let running: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    running = refresh().catch((err: unknown) => log.error({ err }, 'health refresh failed'))
  }, options.intervalMs)
  timer.unref()

  return {
    dependencies,
    refresh,
    async stop() {
      clearInterval(timer)
      await running
      publish('NOT_SERVING')
      health.setStatus(LIVENESS, 'NOT_SERVING')
      stopped = true
    },
  }
}
