import { status, type Server, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js'
import {
  HealthCheckResponse_ServingStatus as Wire,
  HealthService,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthListResponse,
} from '@brewmesh/gen/grpc/health/v1/health.ts'

/** What a service says of itself or of a dependency. */
export type ServingStatus = 'SERVING' | 'NOT_SERVING'

/** The most statuses List answers with, as grpc-health-check and grpc-go do. */
const LIST_LIMIT = 100

/**
 * grpc.health.v1 on gen's stubs: Check answers the status set for a name (NOT_FOUND for a name
 * never set), Watch sends it at once (SERVICE_UNKNOWN for a name never set, without ending the
 * call) and again at every change, List answers every name (RESOURCE_EXHAUSTED beyond 100). The
 * same behaviour as the grpc-health-check package, without its proto-loader parse of health.proto
 * at every start, and without proto-loader and protobufjs at all (server reflection loads them on
 * its first call: reflection.ts).
 */
export class HealthStatuses {
  private readonly statuses = new Map<string, ServingStatus>()
  private readonly watchers = new Map<string, Set<(s: ServingStatus) => void>>()

  constructor(initial: Record<string, ServingStatus> = {}) {
    for (const [name, s] of Object.entries(initial)) this.statuses.set(name, s)
  }

  setStatus(name: string, s: ServingStatus): void {
    this.statuses.set(name, s)
    for (const watcher of this.watchers.get(name) ?? []) watcher(s)
  }

  addToServer(server: Server): void {
    server.addService(HealthService, {
      check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) => {
        const s = this.statuses.get(call.request.service)
        if (s) callback(null, { status: Wire[s] })
        else callback({ code: status.NOT_FOUND, details: `Health status unknown for service ${call.request.service}` })
      },
      watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const name = call.request.service
        const send = (s: ServingStatus) => void call.write({ status: Wire[s] })
        let set = this.watchers.get(name)
        if (!set) this.watchers.set(name, (set = new Set()))
        set.add(send)
        call.on('cancelled', () => {
          set.delete(send)
          if (set.size === 0 && this.watchers.get(name) === set) this.watchers.delete(name)
        })
        const current = this.statuses.get(name)
        if (current) send(current)
        else call.write({ status: Wire.SERVICE_UNKNOWN })
      },
      list: (_call: ServerUnaryCall<unknown, HealthListResponse>, callback: sendUnaryData<HealthListResponse>) => {
        if (this.statuses.size > LIST_LIMIT) return callback({ code: status.RESOURCE_EXHAUSTED, details: 'Too many services to list.' })
        const statuses: HealthListResponse['statuses'] = {}
        for (const [name, s] of this.statuses) statuses[name] = { status: Wire[s] }
        callback(null, { statuses })
      },
    })
  }
}
