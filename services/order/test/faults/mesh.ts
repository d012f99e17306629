import { join } from 'node:path'
import { credentials } from '@grpc/grpc-js'
import { HealthCheckResponse_ServingStatus as Serving, HealthService } from '@brewmesh/gen/grpc/health/v1/health.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { freePort } from '@brewmesh/testkit/infra.ts'
import { startProcess, type ServiceProcess } from '@brewmesh/testkit/processes.ts'

/** In start order: the Order Service calls the other three. */
export const SERVICES = ['customer', 'favorites', 'loyalty', 'order'] as const
export type Service = (typeof SERVICES)[number]

/** One process of a service: its own port and INSTANCE_ID, the service's schema, prefix and topics. */
export interface Replica {
  service: Service
  /** e.g. `order#2`. */
  name: string
  port: number
  env: Record<string, string>
  process: ServiceProcess | undefined
  /** Set while the suite itself stops or kills it, so the exit is not reported as a crash. */
  stopping: boolean
}

/**
 * The four services as Node processes (main.ts, as deployed), N replicas each, which the suite
 * kills, stops and restarts. Every replica of a service shares the service's environment (schema,
 * topic suffix, key prefix); the Order Service's dependency targets list every replica.
 */
export class Mesh {
  replicas: Replica[] = []
  /** Exits the suite did not cause (a crash), with the last lines of output. */
  readonly crashes: string[] = []
  /** Every start: which replica, when, and how long it took to answer SERVING. */
  readonly starts: { replica: string; at: number; ms: number }[] = []

  private readonly envs: Record<Service, Record<string, string>>
  private readonly logDir: string

  constructor(envs: Record<Service, Record<string, string>>, logDir: string) {
    this.envs = envs
    this.logDir = logDir
  }

  of(service: Service): Replica[] {
    return this.replicas.filter((r) => r.service === service)
  }

  /** A gRPC target naming every replica of the service, for round-robin. */
  target(service: Service): string {
    return `ipv4:${this.of(service)
      .map((r) => `127.0.0.1:${r.port}`)
      .join(',')}`
  }

  /**
   * Stops the replicas running now (SIGTERM) and starts `count` of each service, named for
   * `generation` (INSTANCE_ID `<service>-<generation>-r<n>`): a new deployment.
   */
  async deploy(count: number, generation: string): Promise<void> {
    await this.stop()
    const replicas: Replica[] = []
    for (const service of SERVICES) {
      for (let i = 1; i <= count; i++) {
        const env = { ...this.envs[service], INSTANCE_ID: `${service}-${generation}-r${i}` }
        replicas.push({ service, name: `${service}#${i}`, port: await freePort(), env, process: undefined, stopping: false })
      }
    }
    this.replicas = replicas
    const dependencies = {
      CUSTOMER_SERVICE_ADDR: this.target('customer'),
      FAVORITES_SERVICE_ADDR: this.target('favorites'),
      LOYALTY_SERVICE_ADDR: this.target('loyalty'),
    }
    for (const r of this.of('order')) Object.assign(r.env, dependencies)
    // Loyalty's reservation hold asks the Order Service whether an order was stored.
    for (const r of this.of('loyalty')) r.env['ORDER_SERVICE_ADDR'] = this.target('order')
    await Promise.all(replicas.filter((r) => r.service !== 'order').map((r) => this.start(r)))
    await Promise.all(this.of('order').map((r) => this.start(r)))
  }

  /** Starts the replica with its settings (same port, same INSTANCE_ID) and waits until it is SERVING. */
  async start(replica: Replica): Promise<void> {
    const logFile = join(this.logDir, `${replica.env['INSTANCE_ID']}.log`)
    const at = Date.now()
    const p = await startProcess(replica.service, replica.port, replica.env, { logFile, timeoutMs: 90_000 })
    this.starts.push({ replica: replica.name, at, ms: Date.now() - at })
    replica.process = p
    replica.stopping = false
    void p.exited.then((code) => {
      if (!replica.stopping) this.crashes.push(`${replica.name} (pid ${p.pid}) exited on its own with ${code}:\n${p.output().slice(-3000)}`)
    })
  }

  /**
   * Ends the replica with SIGKILL (a crash) or SIGTERM (a graceful stop, SIGKILL after 20 s) and
   * waits until it has exited; answers its exit code.
   */
  async end(replica: Replica, signal: 'SIGKILL' | 'SIGTERM'): Promise<number | null | undefined> {
    const p = replica.process
    replica.stopping = true
    replica.process = undefined
    return signal === 'SIGTERM' ? p?.stop() : p?.kill(signal)
  }

  /** The replicas not answering SERVING to a health check (none when all are). */
  async notServing(): Promise<string[]> {
    const answers = await Promise.all(this.replicas.map(async (r) => ((await serving(r.port)) ? undefined : r.name)))
    return answers.filter((name): name is string => name !== undefined)
  }

  /** SIGTERM to every replica, the Order Service first (it calls the others). */
  async stop(): Promise<void> {
    for (const service of [...SERVICES].reverse()) await Promise.all(this.of(service).map((r) => this.end(r, 'SIGTERM')))
  }
}

async function serving(port: number): Promise<boolean> {
  const health = createClient(HealthService, `127.0.0.1:${port}`, credentials.createInsecure())
  try {
    const answer = await health.check({ service: '' }, { deadline: Date.now() + 2000 })
    return answer.status === Serving.SERVING
  } catch {
    return false
  } finally {
    health.close()
  }
}
