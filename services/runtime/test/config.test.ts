import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { readConfig } from '../../customer/src/config.ts'
import { ConfigError, EnvReader, freeze, readBaseConfig } from '../src/config.ts'

const DEFAULTS = { service: 'orders', grpcPort: 50060, metricsPort: 9470, database: 'ordersdb' }

/** The ConfigError a function throws (fails the test when it returns or throws something else). */
function configError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

// Authentication needs a key; its presence is all these tests need.
const AUTH = { AUTH_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nMFk=\\n-----END PUBLIC KEY-----' }

describe('EnvReader', () => {
  it('when a variable is unset or blank, then the fallback is used', () => {
    const r = new EnvReader({ BLANK: '   ' })
    expect(r.string('MISSING', 'x')).toBe('x')
    expect(r.string('BLANK', 'y')).toBe('y')
    expect(r.int('MISSING', 7)).toBe(7)
    expect(r.bool('BLANK', true)).toBe(true)
    expect(r.list('MISSING', ['a'])).toEqual(['a'])
    expect(r.optional('BLANK')).toBeUndefined()
    expect(() => r.done()).not.toThrow()
  })

  it('when a string is padded, then it is trimmed; an empty fallback is allowed', () => {
    const r = new EnvReader({ NAME: '  value  ' })
    expect(r.string('NAME')).toBe('value')
    expect(r.string('SUFFIX', '')).toBe('')
    expect(r.optional('NAME')).toBe('value')
    expect(() => r.done()).not.toThrow()
  })

  it('when a required string is missing, then done throws naming it', () => {
    const r = new EnvReader({})
    expect(r.string('DB_PASSWORD')).toBe('')
    expect(configError(() => r.done()).problems).toEqual(['DB_PASSWORD is required'])
  })

  it('when an int is within range, including its bounds, then it is parsed', () => {
    const r = new EnvReader({ A: '0', B: '65535', C: ' 42 ', D: '-3' })
    expect(r.int('A', 1, { min: 0, max: 65535 })).toBe(0)
    expect(r.int('B', 1, { min: 0, max: 65535 })).toBe(65535)
    expect(r.int('C', 1)).toBe(42)
    expect(r.int('D', 1)).toBe(-3)
    expect(() => r.done()).not.toThrow()
  })

  it.each([
    ['above the maximum', '65536'],
    ['below the minimum', '-1'],
    ['not a number', 'eighty'],
    ['a fraction', '1.5'],
  ])('when an int is %s, then the fallback is returned and the problem names the variable and value', (_, raw) => {
    const r = new EnvReader({ PORT: raw })
    expect(r.int('PORT', 8080, { min: 0, max: 65535 })).toBe(8080)
    expect(configError(() => r.done()).problems).toEqual([`PORT must be an integer from 0 to 65535, got "${raw}"`])
  })

  it.each(['1', 'true', 'YES', ' On '])('when a bool is %j, then it is true', (raw) => {
    const r = new EnvReader({ FLAG: raw })
    expect(r.bool('FLAG', false)).toBe(true)
    expect(() => r.done()).not.toThrow()
  })

  it.each(['0', 'false', 'No', 'OFF'])('when a bool is %j, then it is false', (raw) => {
    expect(new EnvReader({ FLAG: raw }).bool('FLAG', true)).toBe(false)
  })

  it('when a bool is not recognized, then the fallback is returned and the problem is collected', () => {
    const r = new EnvReader({ FLAG: 'maybe' })
    expect(r.bool('FLAG', true)).toBe(true)
    expect(configError(() => r.done()).problems).toEqual(['FLAG must be true or false, got "maybe"'])
  })

  it('when a list has spaces and empty items, then items are trimmed and empties dropped', () => {
    expect(new EnvReader({ BROKERS: ' a:9092 , ,b:9092,, ' }).list('BROKERS', [])).toEqual(['a:9092', 'b:9092'])
  })

  it('when oneOf gets a value outside the allowed set, then the fallback is returned and the problem lists the choices', () => {
    const r = new EnvReader({ APP_ENV: 'staging' })
    expect(r.oneOf('APP_ENV', ['development', 'production'], 'development')).toBe('development')
    expect(configError(() => r.done()).problems).toEqual(['APP_ENV must be one of development, production, got "staging"'])
  })

  it('when several variables are wrong, then one ConfigError names them all', () => {
    const r = new EnvReader({ PORT: 'x', FLAG: 'maybe' })
    r.int('PORT', 1)
    r.bool('FLAG', false)
    r.string('REQUIRED')
    const err = configError(() => r.done())
    expect(err.problems).toHaveLength(3)
    expect(err.name).toBe('ConfigError')
    for (const name of ['PORT', 'FLAG', 'REQUIRED']) expect(err.message).toContain(name)
  })
})

describe('readBaseConfig', () => {
  it('when nothing is set, then the service defaults apply', () => {
    const r = new EnvReader({ ...AUTH })
    const config = readBaseConfig(r, DEFAULTS, 'host-1')
    r.done()
    expect(config).toEqual({
      service: 'orders',
      instanceId: `host-1-${process.pid}`,
      environment: 'development',
      grpc: { host: '0.0.0.0', port: 50060, maxMessageBytes: 4 * 1024 * 1024, shutdownGraceMs: 10_000, tls: undefined },
      metrics: { port: 9470 },
      log: { level: 'info' },
      postgres: {
        host: '127.0.0.1',
        port: 5432,
        database: 'ordersdb',
        user: 'brewmesh',
        password: 'brewmesh',
        schema: 'orders',
        poolMax: 10,
        poolMaxWaiting: 200,
        acquireTimeoutMs: 1000,
        preparedStatements: 200,
      },
      valkey: { host: '127.0.0.1', port: 6379, keyPrefix: 'brewmesh' },
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'brewmesh-orders', topicSuffix: '' },
      auth: {
        issuer: 'brewmesh-dev',
        audience: 'brewmesh',
        jwksUrl: undefined,
        publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----',
        clockToleranceSeconds: 30,
      },
      rateLimit: { limit: 120, windowSeconds: 60 },
      admission: {
        maxInFlight: 128,
        maxQueued: 256,
        maxQueueMs: 200,
        maxStreams: 20_000,
        retryAfterMs: 250,
        targetLatencyMs: 250,
        minInFlight: 4,
      },
      health: { intervalMs: 2000 },
      retention: { outboxDays: 7, cron: '17 3 * * *' },
      telemetry: { otlpEndpoint: undefined },
    })
  })

  it('when variables are set, then they override the defaults', () => {
    const r = new EnvReader({
      ...AUTH,
      INSTANCE_ID: 'replica-7',
      APP_ENV: 'production',
      AUTH_ISSUER: 'https://id.example.com',
      GRPC_PORT: '0',
      LOG_LEVEL: 'silent',
      DB_POOL_MAX: '200',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      KAFKA_TOPIC_SUFFIX: '.t1',
    })
    const config = readBaseConfig(r, DEFAULTS, 'host-1')
    r.done()
    expect(config).toMatchObject({
      instanceId: 'replica-7',
      environment: 'production',
      grpc: { port: 0 },
      log: { level: 'silent' },
      postgres: { poolMax: 200 },
      kafka: { brokers: ['k1:9092', 'k2:9092'], topicSuffix: '.t1' },
    })
  })

  it('when several base variables are invalid, then done reports each of them', () => {
    const r = new EnvReader({ ...AUTH, GRPC_PORT: '70000', DB_POOL_MAX: '0', LOG_LEVEL: 'loud', APP_ENV: 'qa', VALKEY_PORT: 'abc' })
    readBaseConfig(r, DEFAULTS, 'host-1')
    const problems = configError(() => r.done()).problems
    expect(problems.map((p) => p.split(' ')[0])).toEqual(['APP_ENV', 'GRPC_PORT', 'LOG_LEVEL', 'DB_POOL_MAX', 'VALKEY_PORT'])
  })
})

describe('freeze', () => {
  it('when a config is frozen, then nested objects and arrays are frozen too', () => {
    const config = freeze({ a: { b: { c: 1 } }, list: ['x'], n: 1 })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.a)).toBe(true)
    expect(Object.isFrozen(config.a.b)).toBe(true)
    expect(Object.isFrozen(config.list)).toBe(true)
    expect(() => {
      config.a.b.c = 2
    }).toThrow(TypeError)
    expect(() => config.list.push('y')).toThrow(TypeError)
  })

  it('when given a primitive or null, then it is returned unchanged', () => {
    expect(freeze(5)).toBe(5)
    expect(freeze(null)).toBeNull()
    expect(freeze('s')).toBe('s')
  })
})

describe('customer readConfig', () => {
  it('when the environment is empty, then the customer defaults apply', () => {
    const config = readConfig({ ...AUTH })
    expect(config.service).toBe('customer')
    expect(config.grpc.port).toBe(50052)
    expect(config.metrics.port).toBe(9462)
    expect(config.cache.ttlSeconds).toBe(300)
    expect(config.health.intervalMs).toBe(2000)
    expect(config.retention).toEqual({ outboxDays: 7, cron: '17 3 * * *' })
    expect(config.postgres).toMatchObject({ database: 'customerdb', schema: 'customer' })
    expect(config.kafka.clientId).toBe('brewmesh-customer')
    expect(config.instanceId).toBe(`${hostname()}-${process.pid}`)
    expect(config.telemetry.otlpEndpoint).toBeUndefined()
  })

  it('when the config is read, then it is deeply frozen', () => {
    const config = readConfig({ ...AUTH })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.cache)).toBe(true)
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true)
  })

  it('when variables are set, then they are used', () => {
    const config = readConfig({ ...AUTH, GRPC_PORT: '6000', CACHE_TTL_SECONDS: '60', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' })
    expect(config.grpc.port).toBe(6000)
    expect(config.cache.ttlSeconds).toBe(60)
    expect(config.telemetry.otlpEndpoint).toBe('http://otel:4318')
  })

  it('when base and customer variables are invalid, then one ConfigError names every one', () => {
    const err = configError(() =>
      readConfig({ ...AUTH, GRPC_PORT: 'x', CACHE_TTL_SECONDS: '0', OUTBOX_RETENTION_DAYS: '366', HEALTH_INTERVAL_MS: '10' }),
    )
    expect(err.problems.map((p) => p.split(' ')[0])).toEqual([
      'GRPC_PORT',
      'HEALTH_INTERVAL_MS',
      'OUTBOX_RETENTION_DAYS',
      'CACHE_TTL_SECONDS',
    ])
  })
})

describe('authentication settings', () => {
  it('when no key source is set, then the ConfigError names the three variables', () => {
    expect(() => readConfig({})).toThrow(/AUTH_JWKS_URL, AUTH_PUBLIC_KEY or AUTH_PUBLIC_KEY_FILE/)
  })

  it('when production uses the development issuer or a key under .stack/, then it refuses to start', () => {
    expect(() => readConfig({ ...AUTH, APP_ENV: 'production' })).toThrow(/development issuer/)
    let error: unknown
    try {
      readConfig({
        APP_ENV: 'production',
        AUTH_ISSUER: 'https://id.example.com',
        AUTH_PUBLIC_KEY_FILE: '/srv/app/.stack/dev-keys/public.pem',
      })
    } catch (err) {
      error = err
    }
    expect(String(error)).toMatch(/development key/)
  })

  it('when a JWKS URL and a real issuer are set in production, then the config is accepted', () => {
    const config = readConfig({
      APP_ENV: 'production',
      AUTH_ISSUER: 'https://id.example.com',
      AUTH_JWKS_URL: 'https://id.example.com/jwks.json',
    })
    expect(config.auth).toMatchObject({
      issuer: 'https://id.example.com',
      audience: 'brewmesh',
      jwksUrl: 'https://id.example.com/jwks.json',
    })
  })

  it('when the PEM is given inline with literal \\n, then it is turned into lines', () => {
    expect(readConfig(AUTH).auth.publicKeyPem).toBe('-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----')
  })
})
