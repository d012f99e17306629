import { credentials, type ChannelOptions } from '@grpc/grpc-js'
import { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { FavoritesServiceService } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { LoyaltyServiceService } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { OrderServiceService } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { createClient, type PromiseClient } from '@brewmesh/sdk/client.ts'
import { bearer } from '@brewmesh/testkit/tokens.ts'

export type OrderClient = PromiseClient<typeof OrderServiceService>

/** The suite's callers: staff clients of the four services, several Order channels for the load. */
export interface Clients {
  customer: PromiseClient<typeof CustomerServiceService>
  favorites: PromiseClient<typeof FavoritesServiceService>
  loyalty: PromiseClient<typeof LoyaltyServiceService>
  /** Separate channels (connections), like separate callers; each balances over every Order replica. */
  orders: OrderClient[]
  close(): void
}

/**
 * Round-robin over every address of a target (`ipv4:127.0.0.1:p1,127.0.0.1:p2`), and the reconnect
 * backoff capped at one second, as the Order Service's own outbound channels do: the figures then
 * measure the mesh, not grpc-js's default backoff, which grows to two minutes.
 */
const channel: ChannelOptions = {
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
}

export function connect(
  targets: { customer: string; favorites: string; loyalty: string; order: string },
  token: string,
  orderChannels = 4,
): Clients {
  // As a production caller: the SDK sends a call that is safe to repeat (a read, a write with its
  // request_id) again when it failed UNAVAILABLE before any answer, e.g. on a replica killed mid-call;
  // and AdvanceOrder, which its expected_status makes safe to repeat (order_service.proto).
  const options = { interceptors: [bearer(token)], channel, retry: true }
  const insecure = credentials.createInsecure()
  const clients = {
    customer: createClient(CustomerServiceService, targets.customer, insecure, options),
    favorites: createClient(FavoritesServiceService, targets.favorites, insecure, options),
    loyalty: createClient(LoyaltyServiceService, targets.loyalty, insecure, options),
    // A local subchannel pool each, or grpc-js would share one connection between them.
    orders: Array.from({ length: orderChannels }, () =>
      createClient(OrderServiceService, targets.order, insecure, {
        ...options,
        retry: { also: ['AdvanceOrder'] },
        channel: { ...channel, 'grpc.use_local_subchannel_pool': 1 },
      }),
    ),
  }
  return {
    ...clients,
    close() {
      for (const c of [clients.customer, clients.favorites, clients.loyalty, ...clients.orders]) c.close()
    },
  }
}
