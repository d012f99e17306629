import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js'
import type { Meter } from '@opentelemetry/api'
import type { TlsFiles } from '../config.ts'
import type { Logger } from '../logger.ts'
import { HealthStatuses } from './health-service.ts'
import { StreamRegistry } from './stream-registry.ts'
import type { TokenVerifier } from '../auth/verifier.ts'
import { interceptCalls } from './interceptors.ts'
import { addLazyReflection } from './reflection.ts'
import { createAdmission, type AdmissionSettings } from './admission.ts'
import { implement, type Routes } from './routes.ts'
import type { RateLimiter } from '../rate-limit.ts'

export interface GrpcServerOptions {
  service: string
  host: string
  port: number
  maxMessageBytes: number
  shutdownGraceMs: number
  log: Logger
  meter: Meter
  /** PEM certificate and key (and a client CA for mutual TLS); plaintext when undefined. */
  tls?: TlsFiles | undefined
  /** Verifies bearer tokens; every call but health and reflection must carry one. */
  verifyToken: TokenVerifier
  /** The bound on calls and streams handled at once. */
  admission: AdmissionSettings
  /** The per-caller write limit routes marked `write` count against (none: unlimited). */
  limitWrites?: RateLimiter
}

export interface GrpcServer {
  server: Server
  health: HealthStatuses
  streams: StreamRegistry
  add(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void
  /** Serves a generated service from its route table (grpc/routes.ts). */
  serve<S extends ServiceDefinition>(definition: S, routes: Routes<S>): void
  /** Binds and starts; resolves with the bound port (useful with port 0). */
  listen(): Promise<number>
  /** Stop accepting, end streams with UNAVAILABLE, let unary calls finish, then force. */
  stop(): Promise<void>
}

/**
 * Server reflection straight from the descriptor set `buf build` wrote (every proto in proto/,
 * their well-known-type imports and grpc.health.v1), so grpcurl sees exactly the contracts.
 * The set is split into its FileDescriptorProto bytes (field 1, repeated) without re-encoding:
 * proto-loader's round trip through protobufjs drops well-known types and mangles map entries.
 */
/**
 * Requests that are not protobuf at all: counted per method, and logged at most once a second so
 * a client sending garbage cannot flood the log. grpc-js still answers them INTERNAL.
 */
function unparseableRequests(meter: Meter, log: Logger): (rpc: string, err: unknown) => void {
  const counter = meter.createCounter('grpc_server_unparseable_requests', {
    description: 'requests whose bytes did not decode as their message type (answered INTERNAL by grpc-js), by method',
  })
  let loggedAt = 0
  return (rpc, err) => {
    counter.add(1, { method: rpc })
    const now = Date.now()
    if (now - loggedAt < 1000) return
    loggedAt = now
    log.warn(
      { method: rpc, reason: err instanceof Error ? err.message : String(err) },
      'unparseable request bytes; grpc-js answers INTERNAL',
    )
  }
}

function serverCredentials(tls: TlsFiles | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure()
  const pair = { cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }
  return ServerCredentials.createSsl(tls.clientCa ? Buffer.from(tls.clientCa) : null, [pair], Boolean(tls.clientCa))
}

/** A grpc-js server with health, reflection, call metrics/logging and graceful shutdown. */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const { log } = options
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    interceptors: [interceptCalls(options.service, options.meter, log, options.verifyToken, createAdmission(options.admission))],
  })
  // Starts NOT_SERVING: the health monitor flips it once dependencies answer.
  const health = new HealthStatuses({ '': 'NOT_SERVING' })
  health.addToServer(server)
  const served = ['grpc.health.v1.Health']
  const streams = new StreamRegistry()
  const unparseable = unparseableRequests(options.meter, log)

  return {
    server,
    health,
    streams,
    add(definition, implementation) {
      server.addService(definition, implementation)
      // '/brewmesh.customer.v1.CustomerService/GetCustomer' -> 'brewmesh.customer.v1.CustomerService'
      const path = Object.values(definition)[0]?.path ?? ''
      served.push(path.slice(1, path.lastIndexOf('/')))
    },
    serve(definition, routes) {
      const served = implement(definition as never, routes as never, {
        log,
        streams,
        limitWrites: options.limitWrites ?? (async () => undefined),
        unparseable,
      })
      this.add(served.definition, served.implementation)
    },
    listen: () =>
      new Promise((resolve, reject) => {
        // Reflection describes only what this server serves, so it is added once services are.
        addLazyReflection(server, served)
        server.bindAsync(`${options.host}:${options.port}`, serverCredentials(options.tls), (err, port) =>
          err ? reject(err) : resolve(port),
        )
      }),
    async stop() {
      streams.closeAll()
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          log.warn('grace period over, forcing shutdown')
          server.forceShutdown()
          resolve()
        }, options.shutdownGraceMs)
        server.tryShutdown(() => {
          clearTimeout(force)
          resolve()
        })
      })
    },
  }
}
