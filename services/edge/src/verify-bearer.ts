import { Code, ConnectError } from '@connectrpc/connect'
import type { Principal } from '@brewmesh/runtime/auth/principal.ts'
import type { TokenVerifier } from '@brewmesh/runtime/auth/verifier.ts'

/**
 * The caller's bearer token, checked as the services check it (runtime's verifier: signature,
 * issuer, audience, expiry, a known role). Missing or bad: UNAUTHENTICATED with the verifier's
 * reason, before anything reaches a service.
 */
export async function verifyBearer(authorization: string | null, verify: TokenVerifier): Promise<Principal> {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
  if (!token) throw new ConnectError('missing bearer token: send "authorization: Bearer <JWT>"', Code.Unauthenticated)
  try {
    return verify.cached(token) ?? (await verify(token))
  } catch (err) {
    throw new ConnectError((err as Error).message, Code.Unauthenticated)
  }
}
