import { status as Code, type Metadata } from '@grpc/grpc-js'
import { AppError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { Principal } from './principal.ts'
import type { TokenVerifier } from './verifier.ts'

/** Methods anyone may call: health checks (probes, balancers) and reflection (grpcurl). */
const PUBLIC = [/^\/grpc\.health\.v1\.Health\//, /^\/grpc\.reflection\.v1(alpha)?\.ServerReflection\//]

export const isPublicMethod = (path: string): boolean => PUBLIC.some((p) => p.test(path))

const principals = new WeakMap<Metadata, Principal>()

/** The verified caller of a call, by its metadata (set by authenticate). */
export const principalOf = (metadata: Metadata): Principal | undefined => principals.get(metadata)

/**
 * Requires `authorization: Bearer <JWT>` on a call's metadata (grpc/interceptors.ts runs it for
 * every call but health and reflection): `pass` once the token is verified, `refuse` with
 * UNAUTHENTICATED otherwise, before the handler runs. Tokens are never logged.
 */
export function authenticate(
  metadata: Metadata,
  verify: TokenVerifier,
  log: Logger,
  pass: (metadata: Metadata) => void,
  refuse: (status: { code: Code; details: string }) => void,
): void {
  const header = metadata.get('authorization')[0]
  const token = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined
  if (!token) return refuse({ code: Code.UNAUTHENTICATED, details: 'send authorization: Bearer <token>' })
  // A token seen recently goes straight through, without a promise turn.
  const known = verify.cached(token)
  if (known) return verified(metadata, known, pass)
  verify(token).then(
    (principal) => verified(metadata, principal, pass),
    (err: unknown) => {
      if (!(err instanceof AppError)) log.error({ err }, 'token verification failed unexpectedly')
      refuse({ code: Code.UNAUTHENTICATED, details: err instanceof AppError ? err.message : 'token could not be verified' })
    },
  )
}

/**
 * Keeps the principal and drops the token from the call's metadata: nothing after this reads it,
 * and a stream keeps its metadata for as long as it is open (0.4 KiB of token each, 10,000 open
 * WatchOrder streams: bench/README.md watch-streams).
 */
function verified(metadata: Metadata, principal: Principal, pass: (metadata: Metadata) => void): void {
  principals.set(metadata, principal)
  metadata.remove('authorization')
  pass(metadata)
}
