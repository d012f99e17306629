import { join } from 'node:path'
import {
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'

/**
 * The bare baseline: a plain grpc-js server, its one service loaded at run time with
 * proto-loader, answering a unary Echo with a fixed payload. No interceptors, no health,
 * no reflection, no I/O: what grpc-js alone costs on this machine.
 */

export const ECHO_PROTO = join(import.meta.dirname, 'echo.proto')
export const ECHO_METHOD = 'brewmesh.bench.echo.v1.EchoService.Echo'

export interface EchoServer {
  port: number
  payloadBytes: number
  stop(): Promise<void>
}

interface EchoRequest {
  id: string
}

interface EchoResponse {
  id: string
  payload: Buffer
}

interface EchoPackage {
  brewmesh: { bench: { echo: { v1: { EchoService: { service: ServiceDefinition } } } } }
}

/**
 * The echo service as grpc-js serves it: its definition, loaded at run time, and a handler for
 * each method, every response carrying `payloadBytes` bytes. Also what bench/round-trips.bench.ts
 * adds to the runtime's server.
 */
export function echoService(payloadBytes: number): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const loaded = loadPackageDefinition(
    loadSync(ECHO_PROTO, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true }),
  ) as unknown as EchoPackage
  const payload = Buffer.alloc(payloadBytes, 'x')
  return {
    definition: loaded.brewmesh.bench.echo.v1.EchoService.service,
    implementation: {
      echo(call: ServerUnaryCall<EchoRequest, EchoResponse>, callback: sendUnaryData<EchoResponse>) {
        callback(null, { id: call.request.id, payload })
      },
      watch(call: ServerWritableStream<EchoRequest, EchoResponse>) {
        call.write({ id: call.request.id, payload })
        call.on('cancelled', () => call.end())
      },
    },
  }
}

/** Starts the echo server on host:port (port 0: any free port); each response carries payloadBytes bytes. */
export async function startEchoServer(options: { host?: string; port?: number; payloadBytes?: number } = {}): Promise<EchoServer> {
  const { host = '127.0.0.1', port = 0, payloadBytes = 300 } = options
  const { definition, implementation } = echoService(payloadBytes)
  const server = new Server()
  server.addService(definition, implementation)
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  return {
    port: bound,
    payloadBytes,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  }
}

// Standalone: `node bench/echo/echo-server.ts [port] [payloadBytes]`, stops on SIGINT/SIGTERM.
if (import.meta.main) {
  const echo = await startEchoServer({ port: Number(process.argv[2] ?? 0), payloadBytes: Number(process.argv[3] ?? 300) })
  process.stdout.write(`echo server on 127.0.0.1:${echo.port} (payload ${echo.payloadBytes} bytes, method ${ECHO_METHOD})\n`)
  const stop = () => void echo.stop().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
