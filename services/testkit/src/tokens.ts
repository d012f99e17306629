import { randomUUID } from 'node:crypto'
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js'
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { createTokenVerifier, type TokenVerifier } from '@brewmesh/runtime/auth'

export const TEST_ISSUER = 'brewmesh-test'
export const TEST_AUDIENCE = 'brewmesh'

export interface TokenClaims {
  sub: string
  roles: string[]
  household_id?: string
}

export interface MintOptions {
  /** Seconds from now; negative for an already expired token. */
  expiresIn?: number
  notBefore?: number
  issuer?: string
  audience?: string
  alg?: 'ES256' | 'RS256'
}

/** An in-memory token issuer for tests: its public key goes to the service, its tokens to the clients. */
export interface TestIssuer {
  /** AUTH_* variables that make a service trust this issuer. */
  env: Record<string, string>
  mint(claims: TokenClaims, options?: MintOptions): Promise<string>
}

let shared: Promise<TestIssuer> | undefined

/** One issuer per test process (key generation is the slow part). */
export function testIssuer(): Promise<TestIssuer> {
  shared ??= createIssuer()
  return shared
}

/** A verifier that trusts `issuer`, as a service given its AUTH_* variables does. */
export function verifierOf(issuer: TestIssuer): Promise<TokenVerifier> {
  return createTokenVerifier({
    issuer: issuer.env['AUTH_ISSUER']!,
    audience: issuer.env['AUTH_AUDIENCE']!,
    publicKeyPem: issuer.env['AUTH_PUBLIC_KEY'],
    jwksUrl: undefined,
    clockToleranceSeconds: 5,
  })
}

export async function createIssuer(alg: 'ES256' | 'RS256' = 'ES256'): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  return {
    env: { AUTH_PUBLIC_KEY: await exportSPKI(publicKey), AUTH_ISSUER: TEST_ISSUER, AUTH_AUDIENCE: TEST_AUDIENCE },
    mint: (claims, options = {}) => signToken(privateKey, alg, randomUUID(), claims, options),
  }
}

export async function signToken(key: CryptoKey, alg: string, kid: string, claims: TokenClaims, options: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ roles: claims.roles, ...(claims.household_id ? { household_id: claims.household_id } : {}) })
    .setProtectedHeader({ alg: options.alg ?? alg, kid })
    .setSubject(claims.sub)
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 600))
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore)
  return jwt.sign(key)
}

/** A client interceptor sending `authorization: Bearer <token>` on every call. */
export function bearer(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`)
        next(metadata, listener)
      },
    })
}
