import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTVerifyGetKey, type CryptoKey } from 'jose'
import type { AuthSettings } from '../config.ts'
import { unauthenticated } from '../errors.ts'
import { principalFromClaims, type Principal } from './principal.ts'

export const ALGORITHMS = ['RS256', 'ES256'] as const

export interface TokenVerifier {
  (token: string): Promise<Principal>
  /** The principal of a token verified recently, without waiting (the hot path), if cached. */
  cached(token: string): Principal | undefined
}

/**
 * Verifies bearer tokens with jose: signature (RS256 or ES256), issuer, audience, expiry and
 * not-before. Every failure is UNAUTHENTICATED with a reason safe to show the caller.
 */
export async function createTokenVerifier(config: AuthSettings): Promise<TokenVerifier> {
  let key: JWTVerifyGetKey | CryptoKey
  if (config.jwksUrl) {
    key = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 })
  } else if (config.publicKeyPem) {
    key = await importStatic(config.publicKeyPem)
  } else {
    throw new Error('authentication needs AUTH_JWKS_URL or AUTH_PUBLIC_KEY / AUTH_PUBLIC_KEY_FILE')
  }
  return cached(async (token) => {
    try {
      const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: [...ALGORITHMS],
        clockTolerance: config.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
      })
      const principal = principalFromClaims(payload)
      if (!principal) throw unauthenticated('the token names no known role (roles: customer, barista, support, operator, service)')
      return { principal, expiresAt: (payload.exp ?? 0) * 1000 }
    } catch (err) {
      throw toUnauthenticated(err)
    }
  })
}

const CACHE_MAX = 10_000
const CACHE_TTL_MS = 60_000

/**
 * Remembers verified tokens (by their exact text) until they expire or for a minute, whichever
 * comes first, so a client sending the same token on every call pays for one signature check.
 * A key withdrawn from the JWKS therefore stops working within a minute. Failures are not cached.
 */
function cached(verify: (token: string) => Promise<{ principal: Principal; expiresAt: number }>): TokenVerifier {
  const entries = new Map<string, { principal: Principal; until: number }>()
  const lookup = (token: string) => {
    const hit = entries.get(token)
    if (hit && hit.until > Date.now()) return hit.principal
    if (hit) entries.delete(token)
    return undefined
  }
  const verifier = async (token: string) => {
    const known = lookup(token)
    if (known) return known
    const { principal, expiresAt } = await verify(token)
    if (entries.size >= CACHE_MAX) entries.delete(entries.keys().next().value!)
    entries.set(token, { principal, until: Math.min(expiresAt, Date.now() + CACHE_TTL_MS) })
    return principal
  }
  return Object.assign(verifier, { cached: lookup })
}

async function importStatic(pem: string): Promise<CryptoKey> {
  for (const alg of ALGORITHMS) {
    try {
      return await importSPKI(pem, alg)
    } catch {
      // try the next algorithm: the key type decides which one fits
    }
  }
  throw new Error('AUTH_PUBLIC_KEY is not an RSA or P-256 public key in PEM (SPKI) form')
}

function toUnauthenticated(err: unknown) {
  if (err instanceof errors.JWTExpired) return unauthenticated('token expired')
  if (err instanceof errors.JWTClaimValidationFailed) return unauthenticated(`token rejected: ${err.claim} ${err.reason}`)
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthenticated('token signature is invalid')
  if (err instanceof errors.JWKSNoMatchingKey) return unauthenticated('token signed with an unknown key')
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthenticated('token algorithm not allowed (RS256, ES256)')
  if (err instanceof errors.JOSEError) return unauthenticated('token is malformed')
  if (err instanceof Error && err.name === 'AppError') return err
  return unauthenticated('token could not be verified')
}
