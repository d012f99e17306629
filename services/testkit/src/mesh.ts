import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { dropSchema, isolatedEnv } from './env.ts'
import { freePort, type InfraEnv } from './infra.ts'
import { migrateProcess, startProcess, type ServiceProcess } from './processes.ts'
import type { TestIssuer } from './tokens.ts'

/** The four services of the mesh (the Order Service calls the other three). */
export const MESH_SERVICES = ['customer', 'favorites', 'loyalty', 'order'] as const
export type MeshService = (typeof MESH_SERVICES)[number]

export interface MeshOptions {
  /** Variables for every service, after the isolation and wiring ones (LOG_LEVEL, PAYMENT_DELAY_MS...). */
  env?: Record<string, string>
  /** Everything each process writes, as it comes. */
  onOutput?: (service: MeshService, text: string) => void
}

/** The four services as separate Node processes (their bundles, as deployed) on one isolated set of schemas and topics. */
export interface Mesh {
  ports: Record<MeshService, number>
  /** Each service's environment: its own schema, key prefix and instance; the topic suffix they share. */
  envs: Record<MeshService, Record<string, string>>
  processes: Record<MeshService, ServiceProcess>
  topicSuffix: string
  /** SIGTERM to every process at once, then drops the schemas; the exit code of each process. */
  stop(): Promise<Record<MeshService, number | null>>
}

const perService = <T>(value: (service: MeshService) => T) =>
  Object.fromEntries(MESH_SERVICES.map((s) => [s, value(s)])) as Record<MeshService, T>

/**
 * Migrates and starts the mesh: each service with isolatedEnv and a shared topic suffix, trusting
 * `issuer`, the Order Service calling the others and Loyalty calling the Order Service, each with
 * its own service token read from a file.
 */
export async function startMesh(infra: InfraEnv, issuer: TestIssuer, options: MeshOptions = {}): Promise<Mesh> {
  const topicSuffix = `.m${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const ports = perService(() => 0)
  for (const service of MESH_SERVICES) ports[service] = await freePort()
  const tokenDir = mkdtempSync(join(tmpdir(), 'brewmesh-mesh-'))
  const tokenFile = perService((service) => join(tokenDir, `${service}.token`))
  for (const service of MESH_SERVICES)
    writeFileSync(tokenFile[service], await issuer.mint({ sub: service, roles: ['service'] }, { expiresIn: 12 * 3600 }))
  const envs = perService((service) =>
    isolatedEnv(service, infra, {
      ...issuer.env,
      KAFKA_TOPIC_SUFFIX: topicSuffix,
      SERVICE_TOKEN_FILE: tokenFile[service],
      CUSTOMER_SERVICE_ADDR: `dns:///127.0.0.1:${ports.customer}`,
      FAVORITES_SERVICE_ADDR: `dns:///127.0.0.1:${ports.favorites}`,
      LOYALTY_SERVICE_ADDR: `dns:///127.0.0.1:${ports.loyalty}`,
      ORDER_SERVICE_ADDR: `dns:///127.0.0.1:${ports.order}`,
      ...options.env,
    }),
  )
  const running: ServiceProcess[] = []
  const stop = async () => {
    const codes = perService((): number | null => null)
    await Promise.all(running.map(async (p) => (codes[p.name as MeshService] = await p.stop())))
    for (const env of Object.values(envs)) await dropSchema(env)
    rmSync(tokenDir, { recursive: true, force: true })
    return codes
  }
  // Migrations one after the other (four at once can take longer to connect than the pools allow
  // on a busy machine), then the processes side by side: each only needs the servers to start, the
  // others only to answer calls. Every start settles before a failure is handled.
  const failures: unknown[] = []
  try {
    for (const service of MESH_SERVICES) await migrateProcess(service, envs[service])
  } catch (err) {
    failures.push(err)
  }
  if (failures.length === 0) {
    const started = await Promise.allSettled(
      MESH_SERVICES.map(async (service) => {
        const onOutput = options.onOutput && ((text: string) => options.onOutput?.(service, text))
        running.push(await startProcess(service, ports[service], envs[service], { onOutput }))
      }),
    )
    for (const s of started) if (s.status === 'rejected') failures.push(s.reason)
  }
  if (failures.length > 0) {
    // The start's failure is the news; one in the clean-up after it is only appended.
    const cleanup = await stop().then(
      () => '',
      (err: unknown) => `\n(and stopping the rest failed: ${String(err)})`,
    )
    throw new Error(`the mesh did not start: ${failures.map(String).join('\n')}${cleanup}`, { cause: failures[0] })
  }
  const processes = perService((service) => running.find((p) => p.name === service)!)
  return { ports, envs, processes, topicSuffix, stop }
}
