// The auth area of runtime: the identity a service calls others with, and token verification for
// a process that is not a declared service (the edge). Route rules live in the grpc area.
export {
  clientChannelCredentials,
  clientCredentials,
  forwardedAuthorization,
  outboundOf,
  tokenFile,
  withServiceToken,
  type Outbound,
  type TokenSource,
} from './outbound.ts'
export { createTokenVerifier, type TokenVerifier } from './verifier.ts'
export { STAFF_ROLES, type Principal, type StaffRole } from './principal.ts'
