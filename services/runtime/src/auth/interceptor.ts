import { ServerListenerBuilder, status as Code, type Metadata, type ServerListener } from '@grpc/grpc-js'
import { AppError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { Principal } from './principal.ts'
import type { TokenVerifier } from './verifier.ts'

/** Methods anyone may call: health checks (probes, balancers) and reflection (grpcurl). */
const PUBLIC = [/^\/grpc\.health\.v1\.Health\//, /^\/grpc\.reflection\.v1(alpha)?\.ServerReflection\//]

const principals = new WeakMap<Metadata, Principal>()

/** The verified caller of a call, by its metadata (set by the authentication interceptor). */
export const principalOf = (metadata: Metadata): Principal | undefined => principals.get(metadata)

/**
 * Requires `authorization: Bearer <JWT>` on every call but health and reflection: the listener
 * a call's interceptor installs (see grpc/interceptors.ts). A missing or bad token ends the call
 * with UNAUTHENTICATED, through `refuse`, before the handler runs. Tokens are never logged.
 * Returns undefined for public methods.
 */
export function authenticationListener(
  path: string,
  verify: TokenVerifier,
  log: Logger,
  refuse: (status: { code: Code; details: string }) => void,
): ServerListener | undefined {
  if (PUBLIC.some((p) => p.test(path))) return undefined
  return new ServerListenerBuilder()
    .withOnReceiveMetadata((metadata, next) => {
      const header = metadata.get('authorization')[0]
      const token = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined
      if (!token) return refuse({ code: Code.UNAUTHENTICATED, details: 'send authorization: Bearer <token>' })
      // A token seen recently goes straight through, without a promise turn.
      const known = verify.cached(token)
      if (known) {
        principals.set(metadata, known)
        return next(metadata)
      }
      verify(token).then(
        (principal) => {
          principals.set(metadata, principal)
          next(metadata)
        },
        (err: unknown) => {
          if (!(err instanceof AppError)) log.error({ err, path }, 'token verification failed unexpectedly')
          refuse({ code: Code.UNAUTHENTICATED, details: err instanceof AppError ? err.message : 'token could not be verified' })
        },
      )
    })
    .build()
}
