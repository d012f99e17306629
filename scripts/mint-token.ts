/**
 * Development tokens for calling the services locally. Keeps an ES256 key pair in
 * .stack/dev-keys/ (made on first use; the services trust its public key through
 * AUTH_PUBLIC_KEY_FILE with AUTH_ISSUER=brewmesh-dev, which production configuration refuses).
 *
 *   pnpm mint-token --role customer --sub <customer id> [--household <id>] [--ttl 3600]
 *   pnpm mint-token --role barista --sub maria
 *   pnpm mint-token --role service --sub order
 *   pnpm mint-token --ensure-keys          just make the key pair
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose'
import { DEV_ISSUER } from '../services/runtime/src/config.ts'

const DIR = join(import.meta.dirname, '..', '.stack', 'dev-keys')
const ROLES = ['customer', 'barista', 'support', 'operator', 'service']

export async function ensureKeys(): Promise<JWK> {
  const privatePath = join(DIR, 'private.jwk.json')
  if (existsSync(privatePath)) return JSON.parse(readFileSync(privatePath, 'utf8')) as JWK
  mkdirSync(DIR, { recursive: true })
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(privateKey)), kid: 'brewmesh-dev-1', alg: 'ES256' }
  writeFileSync(privatePath, JSON.stringify(jwk), { mode: 0o600 })
  writeFileSync(join(DIR, 'public.pem'), await exportSPKI(publicKey))
  process.stderr.write(`[mint-token] made a development key pair in ${DIR}\n`)
  return jwk
}

/** A development token signed with the local key pair (what the services started by up.sh trust). */
export async function mintDevToken(claims: {
  sub: string
  roles: string[]
  household?: string | undefined
  ttlSeconds?: number
}): Promise<string> {
  const jwk = await ensureKeys()
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ roles: claims.roles, ...(claims.household ? { household_id: claims.household } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
    .setSubject(claims.sub)
    .setIssuer(DEV_ISSUER)
    .setAudience('brewmesh')
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.ttlSeconds ?? 43_200))
    .sign(await importJWK(jwk, 'ES256'))
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      sub: { type: 'string' },
      household: { type: 'string' },
      ttl: { type: 'string', default: '43200' },
      'ensure-keys': { type: 'boolean', default: false },
    },
  })
  await ensureKeys()
  if (!values['ensure-keys']) {
    if (!values.role || !ROLES.includes(values.role) || !values.sub) {
      process.stderr.write(`usage: pnpm mint-token --role ${ROLES.join('|')} --sub <subject> [--household <id>] [--ttl seconds]\n`)
      process.exit(2)
    }
    process.stdout.write(
      `${await mintDevToken({ sub: values.sub, roles: [values.role], household: values.household, ttlSeconds: Number(values.ttl) })}\n`,
    )
  }
}
