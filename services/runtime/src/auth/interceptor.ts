import {
  type Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as Code,
  type ServerInterceptor,
} from '@grpc/grpc-js'
import { AppError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { describePrincipal, type Principal } from './principal.ts'
import type { TokenVerifier } from './verifier.ts'

/** Methods anyone may call: health checks (probes, balancers) and reflection (grpcurl). */
const PUBLIC = [/^\/grpc\.health\.v1\.Health\//, /^\/grpc\.reflection\.v1(alpha)?\.ServerReflection\//]

const principals = new WeakMap<Metadata, Principal>()

/** The verified caller of a call, by its metadata (set by the authentication interceptor). */
export const principalOf = (metadata: Metadata): Principal | undefined => principals.get(metadata)

/**
 * Requires `authorization: Bearer <JWT>` on every call but health and reflection. A missing or
 * bad token ends the call with UNAUTHENTICATED before the handler runs. Tokens are never logged.
 */
export function authenticate(verify: TokenVerifier, log: Logger): ServerInterceptor {
  return (descriptor, call) => {
    if (PUBLIC.some((p) => p.test(descriptor.path))) return new ServerInterceptingCall(call)
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const header = metadata.get('authorization')[0]
        const token = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined
        if (!token) {
          call.sendStatus({ code: Code.UNAUTHENTICATED, details: 'send authorization: Bearer <token>' })
          return
        }
        // A token seen recently goes straight through, without a promise turn.
        const known = verify.cached(token)
        if (known) {
          principals.set(metadata, known)
          next(metadata)
          return
        }
        verify(token).then(
          (principal) => {
            principals.set(metadata, principal)
            next(metadata)
          },
          (err: unknown) => {
            const details = err instanceof AppError ? err.message : 'token could not be verified'
            if (!(err instanceof AppError)) log.error({ err, path: descriptor.path }, 'token verification failed unexpectedly')
            call.sendStatus({ code: Code.UNAUTHENTICATED, details })
          },
        )
      })
      .build()
    const responder = new ResponderBuilder().withStart((next) => next(listener)).build()
    return new ServerInterceptingCall(call, responder)
  }
}

export { describePrincipal }
