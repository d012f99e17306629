import { readFileSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { credentials, InterceptingCall, Metadata, status as Code, type ChannelCredentials, type Interceptor } from '@grpc/grpc-js'
import type { ServiceIdentity } from '../config.ts'

/** Where a service gets the token it presents when it calls another service. */
export interface TokenSource {
  token(): Promise<string>
}

/**
 * OAuth2 client credentials (RFC 6749 4.4): the service's own identity from the token endpoint,
 * cached until a minute before it expires; concurrent callers share one request.
 */
export function clientCredentials(options: {
  tokenUrl: string
  clientId: string
  clientSecret: string
  audience?: string
  fetch?: typeof fetch
  now?: () => number
}): TokenSource {
  const doFetch = options.fetch ?? fetch
  const now = options.now ?? Date.now
  let current: { token: string; refreshAt: number } | undefined
  let pending: Promise<string> | undefined
  const request = async () => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', ...(options.audience ? { audience: options.audience } : {}) })
    const response = await doFetch(options.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`,
      },
      body,
      signal: AbortSignal.timeout(5000),
    })
    if (!response.ok) throw new Error(`token endpoint answered ${response.status}`)
    const json = (await response.json()) as { access_token?: unknown; expires_in?: unknown }
    if (typeof json.access_token !== 'string') throw new Error('token endpoint sent no access_token')
    const lifetimeMs = (typeof json.expires_in === 'number' ? json.expires_in : 300) * 1000
    current = { token: json.access_token, refreshAt: now() + Math.max(lifetimeMs - 60_000, lifetimeMs / 2) }
    return json.access_token
  }
  return {
    async token() {
      if (current && now() < current.refreshAt) return current.token
      pending ??= request().finally(() => (pending = undefined))
      return pending
    },
  }
}

/**
 * A token kept in a file that something else rotates (a Kubernetes projected token, renewed well
 * before it expires); re-read when it changes. The file is looked at most once per `checkEveryMs`,
 * not on every call: a stat per outbound call was measurable on the order path.
 */
export function tokenFile(path: string, checkEveryMs = 1000, now: () => number = Date.now): TokenSource {
  let cached: { mtimeMs: number; token: string; checkedAt: number } | undefined
  let checking: Promise<string> | undefined
  const check = async () => {
    const { mtimeMs } = await stat(path)
    const token = cached?.mtimeMs === mtimeMs ? cached.token : (await readFile(path, 'utf8')).trim()
    cached = { mtimeMs, token, checkedAt: now() }
    return token
  }
  return {
    async token() {
      if (cached && now() - cached.checkedAt < checkEveryMs) return cached.token
      checking ??= check().finally(() => (checking = undefined))
      return checking
    },
  }
}

/**
 * A client interceptor presenting the service's own token on every outbound call. Without a
 * token the call fails UNAVAILABLE (retryable) instead of going out unauthenticated.
 */
export function withServiceToken(source: TokenSource): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        source.token().then(
          (token) => {
            metadata.set('authorization', `Bearer ${token}`)
            next(metadata, listener)
          },
          (err: unknown) => {
            listener.onReceiveStatus?.({
              code: Code.UNAVAILABLE,
              details: `no service token: ${(err as Error).message}`,
              metadata: new Metadata(),
            })
          },
        )
      },
    })
}

/** For rules that act as the end user: the caller's own authorization header, for an outbound call. */
export function forwardedAuthorization(incoming: Metadata): Metadata {
  const outgoing = new Metadata()
  const header = incoming.get('authorization')[0]
  if (typeof header === 'string') outgoing.set('authorization', header)
  return outgoing
}

/**
 * Channel credentials for outbound calls: plaintext when no CA is configured (local), else TLS
 * trusting that CA, with a client certificate when the callee requires mutual TLS.
 */
export function clientChannelCredentials(tls: {
  ca: string | undefined
  cert?: string | undefined
  key?: string | undefined
}): ChannelCredentials {
  if (!tls.ca) return credentials.createInsecure()
  return credentials.createSsl(Buffer.from(tls.ca), tls.key ? Buffer.from(tls.key) : null, tls.cert ? Buffer.from(tls.cert) : null)
}

/** How a service's outbound channels authenticate: the transport (TLS or plaintext) and its own token. */
export interface Outbound {
  credentials: ChannelCredentials
  interceptors: Interceptor[]
}

/**
 * The outbound side of a service's identity: its token (from the file, or from the token
 * endpoint for `audience` unless the identity names one) on every call, over TLS trusting the
 * configured CA. `token` replaces the configured source (tests).
 */
export function outboundOf(identity: ServiceIdentity, audience: string, token?: TokenSource): Outbound {
  const t = identity.token
  const source = token ?? ('file' in t ? tokenFile(t.file) : clientCredentials({ ...t, audience: t.audience ?? audience }))
  return {
    credentials: clientChannelCredentials({ ca: identity.outboundCa ? readFileSync(identity.outboundCa, 'utf8') : undefined }),
    interceptors: [withServiceToken(source)],
  }
}
