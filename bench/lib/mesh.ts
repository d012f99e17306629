import type { InfraEnv } from '@brewmesh/testkit/infra.ts'
import { MESH_SERVICES, startMesh as startProcesses, type MeshService } from '@brewmesh/testkit/mesh.ts'
import type { TestIssuer } from '@brewmesh/testkit/tokens.ts'
import { deleteKeysWith, deleteTopicsWith } from './leftovers.ts'
import { note } from './log.ts'
import { childWithEnv } from './processes.ts'

export { MESH_SERVICES, type MeshService }

/** The four services as separate Node processes (main.ts with the telemetry preload, as deployed). */
export interface Mesh {
  ports: Record<MeshService, number>
  /** Each service's environment: its own schema, key prefix and instance; the topic suffix they share. */
  envs: Record<MeshService, Record<string, string>>
  pids: Record<MeshService, number>
  topicSuffix: string
  /** The last lines each process wrote (LOG_LEVEL decides how much), for a report on a failure. */
  output(service: MeshService): string
  /** SIGTERM, then drops the schemas, deletes the topics and the keys. */
  stop(): Promise<void>
}

const perService = <T>(value: (service: MeshService) => T) =>
  Object.fromEntries(MESH_SERVICES.map((s) => [s, value(s)])) as Record<MeshService, T>

/**
 * Starts the mesh as the tests do (testkit's startMesh: isolated schemas, a shared topic suffix,
 * `issuer` trusted, the Order Service calling the others with a service token from a file) with
 * `extra` in every service's environment. Stopping also removes what a bench leaves on the shared
 * servers besides its schemas: topics and keys.
 */
export async function startMesh(infra: InfraEnv, issuer: TestIssuer, extra: Record<string, string>): Promise<Mesh> {
  const mesh = await startProcesses(infra, issuer, { env: extra })
  const failed = (what: string) => (err: unknown) => void note(`could not ${what}: ${(err as Error).message}`)
  const stop = async () => {
    const codes = await mesh.stop().catch(failed('stop the mesh and drop its schemas'))
    for (const service of MESH_SERVICES) {
      const code = codes?.[service]
      if (codes && code !== 0) note(`${service} exited with ${code} after SIGTERM:\n${mesh.processes[service].output().slice(-2000)}`)
    }
    let keys = 0
    for (const env of Object.values(mesh.envs))
      keys += (await deleteKeysWith(infra, env['VALKEY_KEY_PREFIX']!).catch(failed('delete keys'))) ?? 0
    const topics = (await deleteTopicsWith(infra, mesh.topicSuffix).catch(failed('delete topics'))) ?? 0
    note(`mesh stopped; dropped ${MESH_SERVICES.length} schemas, ${topics} topics, ${keys} keys`)
  }
  try {
    return {
      ports: mesh.ports,
      envs: mesh.envs,
      pids: perService((service) => pidOf(service, mesh.envs[service])),
      topicSuffix: mesh.topicSuffix,
      output: (service) => mesh.processes[service].output(),
      stop,
    }
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
