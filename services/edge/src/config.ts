import { hostname } from 'node:os'
import { fileURLToPath } from 'node:url'
import { EnvReader, freeze, readBaseConfig, type AuthSettings } from '@brewmesh/runtime/config'

/** The four services behind the edge, by the name their routes and variables use. */
export const UPSTREAMS = ['customer', 'order', 'loyalty', 'favorites'] as const
export type UpstreamName = (typeof UPSTREAMS)[number]

export interface EdgeConfig {
  service: 'edge'
  instanceId: string
  environment: 'development' | 'test' | 'production'
  http: {
    host: string
    port: number
    /** Largest request message (and response message) in bytes; beyond: RESOURCE_EXHAUSTED. */
    maxMessageBytes: number
    /** The deadline of a unary or client-streaming call that comes without one (streams to the caller have none). */
    defaultTimeoutMs: number
    shutdownGraceMs: number
  }
  /** Origins a browser page may call from (CORS); empty: none. `*` allows any. */
  corsOrigins: string[]
  /** Calls per client address per second (token bucket, per replica); 0: off. */
  rateLimit: { perSecond: number; burst: number; trustForwardedFor: boolean }
  metrics: { port: number }
  log: { level: string }
  auth: AuthSettings
  /** Where each upstream service listens (`host:port`; `dns:///host:port` is accepted too). */
  upstreams: Record<UpstreamName, string>
  /** The CA that signed the upstreams' server certificates: set, the edge calls them over TLS (h2); unset, plaintext h2c. */
  upstreamTlsCaFile: string | undefined
  health: { intervalMs: number }
  telemetry: { otlpEndpoint: string | undefined }
  /** Directory of the family web page served under /app/ (built by `pnpm --filter @brewmesh/edge build:web`). */
  webRoot: string
}

const DEFAULT_PORTS: Record<UpstreamName, number> = { order: 50051, customer: 50052, loyalty: 50053, favorites: 50054 }

/**
 * The edge's configuration, read once from the environment, validated and frozen. Logging,
 * metrics, token verification (with its production guards) and the health interval are the
 * services' own settings, read by runtime; the rest is the edge's.
 */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): EdgeConfig {
  const reader = new EnvReader(env)
  // The base reader also reads database and broker settings the edge never uses: their defaults
  // cost nothing, and the settings it shares with the services keep one name and one rule.
  const base = readBaseConfig(reader, { service: 'edge', grpcPort: 0, metricsPort: 9465, database: 'unused' }, hostname())
  const upstream = (name: UpstreamName) => reader.string(`${name.toUpperCase()}_SERVICE_ADDR`, `127.0.0.1:${DEFAULT_PORTS[name]}`)
  const config: EdgeConfig = {
    service: 'edge',
    instanceId: base.instanceId,
    environment: base.environment,
    http: {
      host: reader.string('EDGE_HOST', '0.0.0.0'),
      port: reader.int('EDGE_PORT', 8080, { min: 0, max: 65535 }),
      maxMessageBytes: reader.int('EDGE_MAX_MESSAGE_BYTES', 1024 * 1024, { min: 1024, max: 64 * 1024 * 1024 }),
      defaultTimeoutMs: reader.int('EDGE_DEFAULT_TIMEOUT_MS', 30_000, { min: 100, max: 10 * 60_000 }),
      shutdownGraceMs: base.grpc.shutdownGraceMs,
    },
    corsOrigins: reader.list('EDGE_CORS_ORIGINS', []),
    rateLimit: {
      perSecond: reader.int('EDGE_RATE_LIMIT_PER_SECOND', 50, { min: 0 }),
      burst: reader.int('EDGE_RATE_LIMIT_BURST', 100, { min: 1 }),
      trustForwardedFor: reader.bool('EDGE_TRUST_FORWARDED_FOR', false),
    },
    metrics: base.metrics,
    log: base.log,
    auth: base.auth,
    upstreams: { customer: upstream('customer'), order: upstream('order'), loyalty: upstream('loyalty'), favorites: upstream('favorites') },
    // The Order Service's name for the same setting, so one ConfigMap value serves both callers.
    upstreamTlsCaFile: reader.optional('OUTBOUND_TLS_CA_FILE'),
    health: base.health,
    telemetry: base.telemetry,
    webRoot: reader.string('EDGE_WEB_ROOT', fileURLToPath(new URL('../web/dist', import.meta.url))),
  }
  if (config.environment === 'production' && config.corsOrigins.includes('*'))
    reader.problem('EDGE_CORS_ORIGINS must name the origins in production, not "*"')
  reader.done()
  return freeze(config)
}
