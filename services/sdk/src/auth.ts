import { InterceptingCall, type Interceptor } from '@grpc/grpc-js'

/**
 * Sends `authorization: Bearer <token>` on every call of a Node client:
 * `createClient(CustomerServiceService, address, credentials.createInsecure(), { interceptors: [bearerToken(token)] })`.
 * A function is asked for the token at each call, so a refreshed token is picked up.
 */
export function bearerToken(token: string | (() => string)): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${typeof token === 'function' ? token() : token}`)
        next(metadata, listener)
      },
    })
}
