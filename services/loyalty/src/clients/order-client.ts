import { status as Code, type ServiceError } from '@grpc/grpc-js'
import { OrderServiceService } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import type { Outbound } from '@brewmesh/runtime/auth'
import { createClient } from '@brewmesh/sdk/client.ts'
import type { OrderLookup } from '../domain/ports.ts'

/** Where the Order Service is and how long a look-up may take. */
export interface OrderServiceTarget {
  /** gRPC target, e.g. `dns:///order:50051` (round robin over every address). */
  target: string
  timeoutMs: number
}

/**
 * Asks the Order Service, with this service's own identity, whether an order exists: GetOrder
 * found it (true) or answered NOT_FOUND (false). Anything else (down, slow, refusing our
 * identity) rejects: the caller does not know, and must act as if the order might exist.
 */
export function orderClient(order: OrderServiceTarget, outbound: Outbound): OrderLookup & { close(): void } {
  const client = createClient(OrderServiceService, order.target, outbound.credentials, {
    interceptors: outbound.interceptors,
    channel: { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
  })
  return {
    async exists(orderId) {
      try {
        await client.getOrder({ id: orderId }, { deadline: new Date(Date.now() + order.timeoutMs) })
        return true
      } catch (err) {
        if ((err as ServiceError).code === Code.NOT_FOUND) return false
        throw err
      }
    },
    close: () => client.close(),
  }
}
