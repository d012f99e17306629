/**
 * The four public services' definitions for the Node clients of client.ts:
 * `createClient(CustomerServiceService, 'localhost:50052', credentials.createInsecure())`.
 */
export { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
export { FavoritesServiceService } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
export { LoyaltyServiceService } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
export { OrderServiceService } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
