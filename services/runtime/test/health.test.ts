import type { HealthStatuses, ServingStatus } from '../src/grpc/health-service.ts'
import { describe, expect, it } from 'vitest'
import { LIVENESS, startHealthMonitor, type DependencyCheck } from '../src/health.ts'
import { createLogger } from '../src/logger.ts'

// What the probes read: readiness ("" and the service name) follows the required dependencies;
// liveness follows only the process, so a database outage never restarts a pod.
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })

/** The statuses a monitor published, as a gRPC health Check would answer them. */
function recordingHealth() {
  const statuses = new Map<string, ServingStatus>()
  const health = { setStatus: (name: string, status: ServingStatus) => void statuses.set(name, status) }
  return { statuses, health: health as unknown as HealthStatuses }
}

function monitorWith(postgresUp: { value: boolean }) {
  const { statuses, health } = recordingHealth()
  const postgres: DependencyCheck = {
    name: 'postgres',
    required: true,
    check: async () => {
      if (!postgresUp.value) throw new Error('connection refused')
    },
  }
  const monitor = startHealthMonitor({ health, services: ['brewmesh.order.v1.OrderService'], checks: [postgres], intervalMs: 60_000, log })
  return { statuses, monitor }
}

describe('health: liveness and readiness', () => {
  it('when a required dependency is down, then the service is not ready but still live', async () => {
    const postgresUp = { value: false }
    const { statuses, monitor } = monitorWith(postgresUp)
    await monitor.refresh()

    expect(statuses.get('')).toBe('NOT_SERVING')
    expect(statuses.get('brewmesh.order.v1.OrderService')).toBe('NOT_SERVING')
    expect(statuses.get('dependency/postgres')).toBe('NOT_SERVING')
    expect(statuses.get(LIVENESS)).toBe('SERVING')

    postgresUp.value = true
    await monitor.refresh()
    expect(statuses.get('')).toBe('SERVING')
    expect(statuses.get(LIVENESS)).toBe('SERVING')
    await monitor.stop()
  })

  it('when the service stops, then liveness goes NOT_SERVING too', async () => {
    const { statuses, monitor } = monitorWith({ value: true })
    await monitor.refresh()
    expect(statuses.get(LIVENESS)).toBe('SERVING')

    await monitor.stop()

    expect(statuses.get('')).toBe('NOT_SERVING')
    expect(statuses.get(LIVENESS)).toBe('NOT_SERVING')
  })
})
