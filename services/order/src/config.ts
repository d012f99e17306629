import { hostname } from 'node:os'
import { EnvReader, freeze, readBaseConfig, readServiceIdentity, type BaseConfig, type ServiceIdentity } from '@brewmesh/runtime/config'
import type { Dependency } from './clients/dependency.ts'
import type { PaymentSettings } from './domain/ports.ts'

export interface OrderConfig extends BaseConfig {
  /** Tax on (subtotal - discount), in basis points (825 = 8.25 %). */
  taxRateBps: number
  currency: string
  /** The mock processor, and its rounds over due payments (jobs/payments.ts). */
  payment: PaymentSettings & { pollMs: number; batch: number }
  /** When answers to barista commands older than a day are forgotten (UTC cron). */
  baristaCommands: { purgeCron: string }
  dependencies: { customer: Dependency; favorites: Dependency; loyalty: Dependency }
  /** The Order Service's own identity for outbound calls. */
  identity: ServiceIdentity
}

/** The Order Service's configuration, read once from the environment, validated and frozen. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): OrderConfig {
  const reader = new EnvReader(env)
  const base = readBaseConfig(reader, { service: 'order', grpcPort: 50051, metricsPort: 9461, database: 'orderdb' }, hostname())
  const dependency = (name: string, port: number): Dependency => ({
    target: reader.string(`${name.toUpperCase()}_SERVICE_ADDR`, `dns:///localhost:${port}`),
    timeoutMs: reader.int(`${name.toUpperCase()}_TIMEOUT_MS`, 2000, { min: 50, max: 30_000 }),
    maxInFlight: reader.int(`${name.toUpperCase()}_MAX_IN_FLIGHT`, 128, { min: 1 }),
  })
  const config: OrderConfig = {
    ...base,
    taxRateBps: reader.int('TAX_RATE_BPS', 825, { min: 0, max: 5000 }),
    currency: reader.string('CURRENCY', 'USD'),
    payment: {
      successRate: reader.int('PAYMENT_SUCCESS_PERCENT', 80, { min: 0, max: 100 }) / 100,
      delayMs: reader.int('PAYMENT_DELAY_MS', 2000, { min: 0, max: 600_000 }),
      pollMs: reader.int('PAYMENT_POLL_MS', 250, { min: 10, max: 60_000 }),
      batch: reader.int('PAYMENT_BATCH', 100, { min: 1, max: 1000 }),
    },
    baristaCommands: { purgeCron: reader.string('BARISTA_COMMANDS_PURGE_CRON', '47 3 * * *') },
    dependencies: {
      customer: dependency('customer', 50052),
      favorites: dependency('favorites', 50054),
      loyalty: dependency('loyalty', 50053),
    },
    identity: readServiceIdentity(reader, 'the Order Service calls the others with its own identity'),
  }
  reader.done()
  return freeze(config)
}
