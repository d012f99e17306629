import type { DescService } from '@bufbuild/protobuf'
import { CustomerService } from '@brewmesh/gen/es/brewmesh/customer/v1/customer_service_pb.js'
import { FavoritesService } from '@brewmesh/gen/es/brewmesh/favorites/v1/favorites_service_pb.js'
import { LoyaltyService } from '@brewmesh/gen/es/brewmesh/loyalty/v1/loyalty_service_pb.js'
import { OrderService } from '@brewmesh/gen/es/brewmesh/order/v1/order_service_pb.js'
import type { UpstreamName } from './config.ts'

/**
 * What the edge serves: every method of the four public services, each forwarded to the service
 * that owns it. Health and reflection of the services stay inside the mesh; the edge answers
 * health for itself (health.ts).
 */
export const PUBLIC_API: readonly { upstream: UpstreamName; service: DescService }[] = [
  { upstream: 'customer', service: CustomerService },
  { upstream: 'order', service: OrderService },
  { upstream: 'loyalty', service: LoyaltyService },
  { upstream: 'favorites', service: FavoritesService },
]
