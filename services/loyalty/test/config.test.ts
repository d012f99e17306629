import { describe, expect, it } from 'vitest'
import { ConfigError } from '@brewmesh/runtime/config'
import { readConfig } from '../src/config.ts'

const AUTH = { AUTH_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----', SERVICE_TOKEN_FILE: '/run/token' }

describe('configuration', () => {
  it('has the documented defaults: port 50053, database loyaltydb, schema loyalty, 10 points per unit, 365 days', () => {
    const config = readConfig(AUTH)
    expect(config.grpc.port).toBe(50053)
    expect(config.metrics.port).toBe(9463)
    expect(config.postgres).toMatchObject({ database: 'loyaltydb', schema: 'loyalty' })
    expect(config.rules).toMatchObject({ pointsPerCurrencyUnit: 10, expiryInactivityDays: 365, reservationHoldMinutes: 15 })
    expect(config.rules.tiers).toMatchObject({ silverLifetimePoints: 500, goldLifetimePoints: 2000, goldMultiplierPercent: 150 })
    expect(Object.isFrozen(config.rules.tiers)).toBe(true)
    // The reservation hold job asks the Order Service, with this service's own identity.
    expect(config.orderService).toEqual({ target: 'dns:///localhost:50051', timeoutMs: 2000 })
    expect(config.identity).toEqual({ token: { file: '/run/token' }, outboundCa: undefined })
  })

  it('needs its own identity for the Order Service: a token file or client credentials', () => {
    const { SERVICE_TOKEN_FILE: _, ...withoutToken } = AUTH
    expect(() => readConfig(withoutToken)).toThrow(/SERVICE_TOKEN_FILE or AUTH_TOKEN_URL/)
    const config = readConfig({
      ...withoutToken,
      AUTH_TOKEN_URL: 'https://id.example/token',
      AUTH_CLIENT_ID: 'loyalty',
      AUTH_CLIENT_SECRET: 's',
    })
    expect(config.identity.token).toEqual({
      tokenUrl: 'https://id.example/token',
      clientId: 'loyalty',
      clientSecret: 's',
      audience: undefined,
    })
  })

  it('names every bad variable at once', () => {
    let error: unknown
    try {
      readConfig({ ...AUTH, POINTS_PER_CURRENCY_UNIT: 'ten', TIER_SILVER_LIFETIME_POINTS: '900', TIER_GOLD_LIFETIME_POINTS: '800' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).problems.join('\n')
    expect(problems).toContain('POINTS_PER_CURRENCY_UNIT')
    expect(problems).toContain('TIER_GOLD_LIFETIME_POINTS must be greater than TIER_SILVER_LIFETIME_POINTS')
  })
})
