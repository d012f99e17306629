import { createServer, createSecureServer, type Http2Server, type Http2SecureServer } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import { CustomerService } from '@brewmesh/gen/es/brewmesh/customer/v1/customer_service_pb.js'
import { Health, HealthCheckResponse_ServingStatus as Serving } from '@brewmesh/gen/es/grpc/health/v1/health_pb.js'

/** What the stand-in Customer service saw of the last forwarded call. */
export interface SeenCall {
  authorization?: string | null
  timeoutMs?: number | undefined
  traceparent?: string | null
  calls: number
}

/**
 * A stand-in Customer service speaking gRPC (h2c, or TLS with a key and certificate) for tests of
 * the edge itself that need no database: SERVING health, and GetCustomer answering the id asked.
 */
export async function startFakeCustomer(tls?: { key: Buffer; cert: Buffer }) {
  const seen: SeenCall = { calls: 0 }
  const handler = connectNodeAdapter({
    grpc: true,
    grpcWeb: false,
    connect: false,
    routes: (router) => {
      router.service(Health, { check: () => ({ status: Serving.SERVING }) })
      router.service(CustomerService, {
        getCustomer: (request, ctx) => {
          seen.calls++
          seen.authorization = ctx.requestHeader.get('authorization')
          seen.timeoutMs = ctx.timeoutMs()
          seen.traceparent = ctx.requestHeader.get('traceparent')
          return { customer: { id: request.id, firstName: 'Ada' } }
        },
      })
    },
  })
  const server: Http2Server | Http2SecureServer = tls ? createSecureServer(tls, handler) : createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
