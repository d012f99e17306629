import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { freePort, type InfraEnv } from '@brewmesh/testkit/infra.ts'
import { migrateProcess, startProcess, type ServiceProcess } from '@brewmesh/testkit/processes.ts'
import type { TestIssuer } from '@brewmesh/testkit/tokens.ts'
import { deleteKeysWith, deleteTopicsWith } from './leftovers.ts'
import { note } from './log.ts'
import { childWithEnv } from './processes.ts'

/** In start order: the Order Service calls the other three. */
export const MESH_SERVICES = ['customer', 'favorites', 'loyalty', 'order'] as const
export type MeshService = (typeof MESH_SERVICES)[number]

/** The four services as separate Node processes (main.ts with the telemetry preload, as deployed). */
export interface Mesh {
  ports: Record<MeshService, number>
  /** Each service's environment: its own schema, key prefix and instance; the topic suffix they share. */
  envs: Record<MeshService, Record<string, string>>
  pids: Record<MeshService, number>
  topicSuffix: string
  /** The last lines each process wrote (LOG_LEVEL decides how much), for a report on a failure. */
  output(service: MeshService): string
  /** SIGTERM in reverse start order, then drops the schemas, deletes the topics and the keys. */
  stop(): Promise<void>
}

const perService = <T>(value: (service: MeshService) => T) =>
  Object.fromEntries(MESH_SERVICES.map((s) => [s, value(s)])) as Record<MeshService, T>

/**
 * Starts the mesh the way services/order/test/mesh-processes.int.test.ts does: each service with
 * isolatedEnv and a shared topic suffix, trusting `issuer`, the Order Service calling the others
 * with a service token from a file. `extra` goes into every service's environment.
 */
export async function startMesh(infra: InfraEnv, issuer: TestIssuer, extra: Record<string, string>): Promise<Mesh> {
  const topicSuffix = `.p${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const ports = perService(() => 0)
  for (const service of MESH_SERVICES) ports[service] = await freePort()
  const tokenDir = mkdtempSync(join(tmpdir(), 'brewmesh-bench-'))
  const tokenFile = join(tokenDir, 'order.token')
  writeFileSync(tokenFile, await issuer.mint({ sub: 'order', roles: ['service'] }, { expiresIn: 12 * 3600 }))
  const envs = perService((service) =>
    isolatedEnv(service, infra, {
      ...issuer.env,
      KAFKA_TOPIC_SUFFIX: topicSuffix,
      SERVICE_TOKEN_FILE: tokenFile,
      CUSTOMER_SERVICE_ADDR: `dns:///127.0.0.1:${ports.customer}`,
      FAVORITES_SERVICE_ADDR: `dns:///127.0.0.1:${ports.favorites}`,
      LOYALTY_SERVICE_ADDR: `dns:///127.0.0.1:${ports.loyalty}`,
      ...extra,
    }),
  )
  const running: ServiceProcess[] = []
  const stop = async () => {
    for (const p of [...running].reverse()) {
      const code = await p.stop()
      if (code !== 0) note(`${p.name} exited with ${code} after SIGTERM:\n${p.output().slice(-2000)}`)
    }
    const failed = (what: string) => (err: unknown) => void note(`could not ${what}: ${(err as Error).message}`)
    let keys = 0
    for (const env of Object.values(envs)) {
      await dropSchema(env).catch(failed(`drop schema ${env['DB_SCHEMA']}`))
      keys += (await deleteKeysWith(infra, env['VALKEY_KEY_PREFIX']!).catch(failed('delete keys'))) ?? 0
    }
    const topics = (await deleteTopicsWith(infra, topicSuffix).catch(failed('delete topics'))) ?? 0
    note(`mesh stopped; dropped ${MESH_SERVICES.length} schemas, ${topics} topics, ${keys} keys`)
    rmSync(tokenDir, { recursive: true, force: true })
  }
  try {
    for (const service of MESH_SERVICES) {
      await migrateProcess(service, envs[service])
      running.push(await startProcess(service, ports[service], envs[service]))
    }
    const output = (service: MeshService) => running.find((p) => p.name === service)?.output() ?? ''
    return { ports, envs, pids: perService((service) => pidOf(service, envs[service])), topicSuffix, output, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

function pidOf(service: MeshService, env: Record<string, string>): number {
  const pid = childWithEnv('INSTANCE_ID', env['INSTANCE_ID']!)
  if (pid === undefined) throw new Error(`no child process of this bench runs ${service} (INSTANCE_ID ${env['INSTANCE_ID']})`)
  return pid
}
