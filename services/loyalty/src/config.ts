import { hostname } from 'node:os'
import { EnvReader, freeze, readBaseConfig, readServiceIdentity, type BaseConfig, type ServiceIdentity } from '@brewmesh/runtime/config'
import type { OrderServiceTarget } from './clients/order-client.ts'
import type { LoyaltyRules } from './domain/rules.ts'

export interface LoyaltyConfig extends BaseConfig {
  rules: LoyaltyRules
  /** When the points expiry job runs (UTC cron). */
  expiry: { cron: string }
  /** When the reservation hold job runs (UTC cron). */
  reservationHold: { cron: string }
  /** The Order Service, asked by the reservation hold job whether an order was stored. */
  orderService: OrderServiceTarget
  /** This service's own identity for that call. */
  identity: ServiceIdentity
}

/** The Loyalty service's configuration, read once from the environment, validated and frozen. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): LoyaltyConfig {
  const reader = new EnvReader(env)
  const base = readBaseConfig(reader, { service: 'loyalty', grpcPort: 50053, metricsPort: 9463, database: 'loyaltydb' }, hostname())
  const silver = reader.int('TIER_SILVER_LIFETIME_POINTS', 500, { min: 1 })
  const gold = reader.int('TIER_GOLD_LIFETIME_POINTS', 2000, { min: 1 })
  if (gold <= silver) reader.problem('TIER_GOLD_LIFETIME_POINTS must be greater than TIER_SILVER_LIFETIME_POINTS')
  const config: LoyaltyConfig = {
    ...base,
    rules: {
      pointsPerCurrencyUnit: reader.int('POINTS_PER_CURRENCY_UNIT', 10, { min: 0, max: 10_000 }),
      tiers: {
        silverLifetimePoints: silver,
        goldLifetimePoints: gold,
        bronzeMultiplierPercent: reader.int('TIER_BRONZE_MULTIPLIER_PERCENT', 100, { min: 0, max: 1000 }),
        silverMultiplierPercent: reader.int('TIER_SILVER_MULTIPLIER_PERCENT', 125, { min: 0, max: 1000 }),
        goldMultiplierPercent: reader.int('TIER_GOLD_MULTIPLIER_PERCENT', 150, { min: 0, max: 1000 }),
      },
      expiryInactivityDays: reader.int('POINTS_EXPIRY_INACTIVITY_DAYS', 365, { min: 1, max: 3650 }),
      reservationHoldMinutes: reader.int('RESERVATION_HOLD_MINUTES', 15, { min: 1, max: 10_080 }),
    },
    expiry: { cron: reader.string('POINTS_EXPIRY_CRON', '23 2 * * *') },
    reservationHold: { cron: reader.string('RESERVATION_HOLD_CRON', '* * * * *') },
    orderService: {
      target: reader.string('ORDER_SERVICE_ADDR', 'dns:///localhost:50051'),
      timeoutMs: reader.int('ORDER_TIMEOUT_MS', 2000, { min: 50, max: 30_000 }),
    },
    identity: readServiceIdentity(reader, 'the reservation hold job asks the Order Service with its own identity'),
  }
  reader.done()
  return freeze(config)
}
