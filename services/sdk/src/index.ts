/** The SDK for Node: promise clients of the services over gRPC, their definitions, error readers and topics. */
export { credentials, Metadata, status } from '@grpc/grpc-js'
export { bearerToken } from './auth.ts'
export {
  createClient,
  repeatableMethods,
  retryingChannel,
  type CallOptions,
  type ClientMethod,
  type ClientOptions,
  type PromiseClient,
} from './client.ts'
export { errorReasonOf, fieldViolationsOf, retryDelayOf, type FieldViolation } from './errors.ts'
export { CustomerServiceService, FavoritesServiceService, LoyaltyServiceService, OrderServiceService } from './services.ts'
export { TOPICS } from './topics.ts'
