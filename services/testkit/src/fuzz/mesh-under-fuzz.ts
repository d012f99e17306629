import type { InfraEnv } from '../infra.ts'
import { MESH_SERVICES, startMesh, type Mesh, type MeshService as ProcessName } from '../mesh.ts'
import type { TestIssuer } from '../tokens.ts'
import type { Target } from './campaign.ts'
import { meshServices, type MeshService } from './contract.ts'
import { jsonRpc, type JsonRpc } from './json-rpc.ts'
import { ServiceLog } from './service-log.ts'
import { wireClient, type WireClient } from './wire-client.ts'

/** The mesh as four processes, a wire client and a log per service, ready to fuzz. */
export interface MeshUnderFuzz {
  mesh: Mesh
  services: MeshService[]
  targets: Target[]
  rpc: JsonRpc
  /** Closes the clients, stops the processes (their exit codes) and drops the schemas. */
  close(): Promise<Record<ProcessName, number | null>>
}

const isProcess = (name: string): name is ProcessName => (MESH_SERVICES as readonly string[]).includes(name)

/**
 * Starts the mesh with warnings and errors logged (the services log "unexpected error" with its
 * stack before answering INTERNAL) and fast payments, and connects to every service the
 * descriptor set declares. A service in the contracts without a process to run it is an error.
 */
export async function startMeshUnderFuzz(infra: InfraEnv, issuer: TestIssuer): Promise<MeshUnderFuzz> {
  const services = meshServices()
  const missing = services.filter((s) => !isProcess(s.name)).map((s) => s.desc.typeName)
  if (missing.length > 0) throw new Error(`the contracts declare ${missing.join(', ')}, which the mesh does not run`)
  const logs = new Map(services.map((s) => [s.name, new ServiceLog()]))
  const mesh = await startMesh(infra, issuer, {
    env: { LOG_LEVEL: 'warn', PAYMENT_DELAY_MS: '200', PAYMENT_SUCCESS_PERCENT: '100', STATS_ROLLUP_DEBOUNCE_MS: '100' },
    onOutput: (service, text) => logs.get(service)?.write(text),
  })
  const clients = new Map<string, WireClient>(
    services.map((s) => [s.name, wireClient(s.desc, `127.0.0.1:${mesh.ports[s.name as ProcessName]}`)]),
  )
  const targets = services.map((service) => {
    const process = mesh.processes[service.name as ProcessName]
    return { service, client: clients.get(service.name)!, log: logs.get(service.name)!, running: () => process.running() }
  })
  return {
    mesh,
    services,
    targets,
    rpc: jsonRpc(services, clients),
    close: async () => {
      for (const client of clients.values()) client.close()
      return mesh.stop()
    },
  }
}
