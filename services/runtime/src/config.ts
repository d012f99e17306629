import { readFileSync } from 'node:fs'
import type { AdmissionSettings } from './grpc/admission.ts'
/** Typed, validated, frozen configuration read once from the environment. */

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type Env = Readonly<Record<string, string | undefined>>

/** Reads variables and collects every problem, so one start-up failure names them all. */
export class EnvReader {
  private readonly problems: string[] = []
  private readonly env: Env
  constructor(env: Env) {
    this.env = env
  }

  string(name: string, fallback?: string): string {
    const value = this.env[name]?.trim()
    if (value) return value
    if (fallback !== undefined) return fallback
    this.problems.push(`${name} is required`)
    return ''
  }

  optional(name: string): string | undefined {
    return this.env[name]?.trim() || undefined
  }

  int(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = this.env[name]?.trim()
    if (!raw) return fallback
    const value = Number(raw)
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`)
      return fallback
    }
    return value
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.env[name]?.trim().toLowerCase()
    if (!raw) return fallback
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true
    if (['0', 'false', 'no', 'off'].includes(raw)) return false
    this.problems.push(`${name} must be true or false, got "${raw}"`)
    return fallback
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name]?.trim()
    if (!raw) return fallback
    if ((allowed as readonly string[]).includes(raw)) return raw as T
    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`)
    return fallback
  }

  list(name: string, fallback: string[]): string[] {
    const raw = this.env[name]?.trim()
    if (!raw) return fallback
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  }

  /** Records a problem found while combining variables. */
  problem(message: string): void {
    this.problems.push(message)
  }

  /** Throws one ConfigError naming every problem seen so far. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems)
  }
}

export interface PostgresConfig {
  host: string
  port: number
  database: string
  user: string
  password: string
  /** PostgreSQL schema holding this service's tables. */
  schema: string
  poolMax: number
  /** Queries that may wait for a pooled connection; past that they are refused at once (RESOURCE_EXHAUSTED). */
  poolMaxWaiting: number
  /** How long a query waits for a pooled connection (or a new one to connect). */
  acquireTimeoutMs: number
  /** Statements each connection keeps prepared (db/send-statements.ts); 0: none. */
  preparedStatements: number
}

export interface ValkeyConfig {
  host: string
  port: number
  /** Key prefix for BullMQ queues and cache keys, so services can share one server. */
  keyPrefix: string
}

export interface KafkaConfig {
  brokers: string[]
  clientId: string
  /** Appended to topic names, so parallel test runs never share topics. Empty in production. */
  topicSuffix: string
}

/** Token verification: keys from jwksUrl (cached, refetched on an unknown key id) or one static PEM. */
export interface AuthSettings {
  issuer: string
  audience: string
  jwksUrl: string | undefined
  publicKeyPem: string | undefined
  clockToleranceSeconds: number
}

/** PEM contents for a TLS server; clientCa turns on mutual TLS. */
export interface TlsFiles {
  cert: string
  key: string
  clientCa: string | undefined
}

export interface BaseConfig {
  service: string
  /** Distinguishes replicas: broadcast consumer groups and logs use it. */
  instanceId: string
  environment: 'development' | 'test' | 'production'
  grpc: { host: string; port: number; maxMessageBytes: number; shutdownGraceMs: number; tls: TlsFiles | undefined }
  metrics: { port: number }
  log: { level: string }
  postgres: PostgresConfig
  valkey: ValkeyConfig
  kafka: KafkaConfig
  auth: AuthSettings
  /** Per-caller write limit (0: off). */
  rateLimit: { limit: number; windowSeconds: number }
  /** How many calls the server takes at once before it answers RESOURCE_EXHAUSTED (grpc/admission.ts). */
  admission: AdmissionSettings
  /** How often dependencies are probed for grpc.health.v1. */
  health: { intervalMs: number }
  /** Published outbox rows and processed event ids are purged after outboxDays, by a job on `cron` (UTC). */
  retention: { outboxDays: number; cron: string }
  /** OTLP endpoint for traces and metrics; unset: nothing is exported. */
  telemetry: { otlpEndpoint: string | undefined }
}

/**
 * A service's own identity for the calls it makes to others: a token file (rotated by the
 * platform, e.g. a Kubernetes projected token) or OAuth2 client credentials; and the CA that
 * outbound TLS trusts (unset: plaintext, local).
 */
export interface ServiceIdentity {
  token: { file: string } | { tokenUrl: string; clientId: string; clientSecret: string; audience: string | undefined }
  outboundCa: string | undefined
}

/**
 * SERVICE_TOKEN_FILE, or AUTH_TOKEN_URL with AUTH_CLIENT_ID, AUTH_CLIENT_SECRET and
 * AUTH_TOKEN_AUDIENCE; OUTBOUND_TLS_CA_FILE. One of the two token sources is required: `why`
 * says whom the service calls, for the message.
 */
export function readServiceIdentity(reader: EnvReader, why: string): ServiceIdentity {
  const file = reader.optional('SERVICE_TOKEN_FILE')
  const tokenUrl = reader.optional('AUTH_TOKEN_URL')
  if (!file && !tokenUrl) reader.problem(`set SERVICE_TOKEN_FILE or AUTH_TOKEN_URL (with AUTH_CLIENT_ID, AUTH_CLIENT_SECRET): ${why}`)
  return {
    token: file
      ? { file }
      : {
          tokenUrl: tokenUrl ?? '',
          clientId: reader.string('AUTH_CLIENT_ID', ''),
          clientSecret: reader.string('AUTH_CLIENT_SECRET', ''),
          audience: reader.optional('AUTH_TOKEN_AUDIENCE'),
        },
    outboundCa: reader.optional('OUTBOUND_TLS_CA_FILE'),
  }
}

export interface ServiceDefaults {
  service: string
  grpcPort: number
  metricsPort: number
  database: string
}

/** The settings every service shares, with the seed's variable names. */
export function readBaseConfig(reader: EnvReader, defaults: ServiceDefaults, hostname: string): BaseConfig {
  const service = defaults.service
  const environment = reader.oneOf('APP_ENV', ['development', 'test', 'production'], 'development')
  return {
    service,
    instanceId: reader.string('INSTANCE_ID', `${hostname}-${process.pid}`),
    environment,
    grpc: {
      host: reader.string('GRPC_HOST', '0.0.0.0'),
      port: reader.int('GRPC_PORT', defaults.grpcPort, { min: 0, max: 65535 }),
      maxMessageBytes: reader.int('GRPC_MAX_MESSAGE_BYTES', 4 * 1024 * 1024, { min: 1024 }),
      shutdownGraceMs: reader.int('SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
      tls: readTls(reader),
    },
    metrics: { port: reader.int('METRICS_PORT', defaults.metricsPort, { min: 0, max: 65535 }) },
    log: { level: reader.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info') },
    postgres: {
      host: reader.string('DB_HOST', '127.0.0.1'),
      port: reader.int('DB_PORT', 5432, { min: 1, max: 65535 }),
      database: reader.string('DB_NAME', defaults.database),
      user: reader.string('DB_USER', 'brewmesh'),
      password: reader.string('DB_PASSWORD', 'brewmesh'),
      schema: reader.string('DB_SCHEMA', service),
      poolMax: reader.int('DB_POOL_MAX', 10, { min: 1, max: 200 }),
      poolMaxWaiting: reader.int('DB_POOL_MAX_WAITING', 200, { min: 0, max: 10_000 }),
      acquireTimeoutMs: reader.int('DB_POOL_ACQUIRE_TIMEOUT_MS', 1000, { min: 10, max: 60_000 }),
      preparedStatements: reader.int('DB_PREPARED_STATEMENTS', 200, { min: 0, max: 10_000 }),
    },
    valkey: {
      host: reader.string('VALKEY_HOST', '127.0.0.1'),
      port: reader.int('VALKEY_PORT', 6379, { min: 1, max: 65535 }),
      keyPrefix: reader.string('VALKEY_KEY_PREFIX', 'brewmesh'),
    },
    auth: readAuth(reader, environment),
    rateLimit: {
      limit: reader.int('RATE_LIMIT_WRITES', 120, { min: 0 }),
      windowSeconds: reader.int('RATE_LIMIT_WINDOW_SECONDS', 60, { min: 1, max: 3600 }),
    },
    admission: {
      maxInFlight: reader.int('ADMISSION_MAX_IN_FLIGHT', 128, { min: 1 }),
      maxQueued: reader.int('ADMISSION_MAX_QUEUED', 256, { min: 0 }),
      maxQueueMs: reader.int('ADMISSION_MAX_QUEUE_MS', 200, { min: 0, max: 60_000 }),
      maxStreams: reader.int('ADMISSION_MAX_STREAMS', 20_000, { min: 1 }),
      retryAfterMs: reader.int('ADMISSION_RETRY_AFTER_MS', 250, { min: 1, max: 60_000 }),
      targetLatencyMs: reader.int('ADMISSION_TARGET_LATENCY_MS', 250, { min: 0, max: 60_000 }),
      minInFlight: reader.int('ADMISSION_MIN_IN_FLIGHT', 4, { min: 1 }),
    },
    health: { intervalMs: reader.int('HEALTH_INTERVAL_MS', 2000, { min: 100 }) },
    retention: {
      outboxDays: reader.int('OUTBOX_RETENTION_DAYS', 7, { min: 1, max: 365 }),
      cron: reader.string('OUTBOX_PURGE_CRON', '17 3 * * *'),
    },
    telemetry: { otlpEndpoint: reader.optional('OTEL_EXPORTER_OTLP_ENDPOINT') },
    kafka: {
      brokers: reader.list('KAFKA_BROKERS', ['127.0.0.1:9092']),
      clientId: reader.string('KAFKA_CLIENT_ID', `brewmesh-${service}`),
      topicSuffix: reader.string('KAFKA_TOPIC_SUFFIX', ''),
    },
  }
}

/** The issuer the development tooling (scripts/mint-token.ts) signs with; production refuses it. */
export const DEV_ISSUER = 'brewmesh-dev'

/** Optional TLS: GRPC_TLS_CERT_FILE + GRPC_TLS_KEY_FILE (both or neither), GRPC_TLS_CLIENT_CA_FILE for mTLS. */
function readTls(reader: EnvReader): TlsFiles | undefined {
  const certFile = reader.optional('GRPC_TLS_CERT_FILE')
  const keyFile = reader.optional('GRPC_TLS_KEY_FILE')
  const caFile = reader.optional('GRPC_TLS_CLIENT_CA_FILE')
  if (!certFile && !keyFile) {
    if (caFile) reader.problem('GRPC_TLS_CLIENT_CA_FILE needs GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE')
    return undefined
  }
  if (!certFile || !keyFile) {
    reader.problem('set both GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE, or neither')
    return undefined
  }
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path, 'utf8')
    } catch (err) {
      reader.problem(`${name} ${path} cannot be read: ${(err as Error).message}`)
      return ''
    }
  }
  return {
    cert: read('GRPC_TLS_CERT_FILE', certFile),
    key: read('GRPC_TLS_KEY_FILE', keyFile),
    clientCa: caFile ? read('GRPC_TLS_CLIENT_CA_FILE', caFile) : undefined,
  }
}

/**
 * Token verification settings. Keys come from a JWKS URL or one static public key (PEM inline
 * or from a file). Production refuses the development issuer and keys kept under .stack/.
 */
function readAuth(reader: EnvReader, environment: string): AuthSettings {
  const keyFile = reader.optional('AUTH_PUBLIC_KEY_FILE')
  let publicKeyPem = reader.optional('AUTH_PUBLIC_KEY')?.replaceAll('\\n', '\n')
  if (!publicKeyPem && keyFile) {
    try {
      publicKeyPem = readFileSync(keyFile, 'utf8')
    } catch (err) {
      reader.problem(`AUTH_PUBLIC_KEY_FILE ${keyFile} cannot be read: ${(err as Error).message}`)
    }
  }
  const settings: AuthSettings = {
    issuer: reader.string('AUTH_ISSUER', DEV_ISSUER),
    audience: reader.string('AUTH_AUDIENCE', 'brewmesh'),
    jwksUrl: reader.optional('AUTH_JWKS_URL'),
    publicKeyPem,
    clockToleranceSeconds: reader.int('AUTH_CLOCK_TOLERANCE_SECONDS', 30, { min: 0, max: 300 }),
  }
  if (!settings.jwksUrl && !settings.publicKeyPem) {
    reader.problem('set AUTH_JWKS_URL, AUTH_PUBLIC_KEY or AUTH_PUBLIC_KEY_FILE (scripts/up.sh makes a development key pair)')
  }
  if (environment === 'production') {
    if (settings.issuer === DEV_ISSUER) reader.problem(`AUTH_ISSUER must not be the development issuer "${DEV_ISSUER}" in production`)
    if (keyFile?.includes('/.stack/'))
      reader.problem('AUTH_PUBLIC_KEY_FILE points at the development key (.stack/); production needs the real issuer key')
  }
  return settings
}

/** Deep-freezes a config object so nothing changes it after start. */
export function freeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) freeze(inner)
    Object.freeze(value)
  }
  return value
}
