import { randomUUID } from 'node:crypto'
import { inject } from 'vitest'
import type { Cart } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import { LoyaltyServiceService, type AdjustPointsResponse } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import type { PromiseClient } from '@brewmesh/sdk/client.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { customerEvent, publish } from '@brewmesh/testkit/contract-events.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { PRINCIPALS } from '@brewmesh/testkit/principals.ts'
import { cleanupEnv, startTestService, testEnv, type ServiceUnderTest, type TestService } from '@brewmesh/testkit/service.ts'
import type { TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { migrateLoyalty, startApp, type AppOptions } from '../src/app.ts'
import { readConfig, type LoyaltyConfig } from '../src/config.ts'

export type LoyaltyClient = PromiseClient<typeof LoyaltyServiceService>

export interface Running extends TestService<typeof LoyaltyServiceService, LoyaltyConfig> {
  client: LoyaltyClient
  /** A client with the Order Service's identity. */
  order: LoyaltyClient
  /** A client calling with a token for these claims. */
  clientAs(claims: TokenClaims): Promise<LoyaltyClient>
}

/** A fresh isolated environment (own schema, topics, key prefix) on the shared test servers. */
export const loyaltyEnv = (extra: Record<string, string> = {}) =>
  // The token is never read: tests give the service its Order Service (AppOptions.orders), or none.
  testEnv('loyalty', { SERVICE_TOKEN_FILE: '/dev/null', ...extra })

export const brokers = () => inject('infra').env['KAFKA_BROKERS']

export const STAFF: TokenClaims = PRINCIPALS.staff
export const ORDER_SERVICE: TokenClaims = PRINCIPALS.orderService

const loyalty = (options: AppOptions): ServiceUnderTest<typeof LoyaltyServiceService, LoyaltyConfig> => ({
  name: 'loyalty',
  definition: LoyaltyServiceService,
  readConfig,
  migrate: migrateLoyalty,
  start: (config) => startApp(config, options),
})

/** Migrates and starts the Loyalty service in-process on port 0, waiting until its consumers joined (unless waitForKafka is false). */
export async function startLoyalty(
  env: Record<string, string>,
  options: { migrate?: boolean; waitForKafka?: boolean } & AppOptions = {},
): Promise<Running> {
  const svc = await startTestService(loyalty(options), env, { migrate: options.migrate !== false, ready: options.waitForKafka !== false })
  return { ...svc, client: svc.client, order: await svc.as(ORDER_SERVICE), clientAs: svc.as }
}

export const cleanup = cleanupEnv

/** Opens an account through the real path: a CustomerCreated event on the customer topic. */
export async function openAccount(svc: Running, customerId = randomUUID()): Promise<string> {
  await publish(brokers(), TOPICS.customerEvents + svc.env['KAFKA_TOPIC_SUFFIX'], [customerEvent('created', { id: customerId })])
  await eventually(() => svc.client.getAccount({ customerId }))
  return customerId
}

/** Gives a customer points through AdjustPoints. */
export function grant(svc: Running, customerId: string, points: number | bigint, requestId = randomUUID()): Promise<AdjustPointsResponse> {
  return svc.client.adjustPoints({ requestId, customerId, points: String(points), reason: 'test grant' })
}

export const SEED = {
  freeDrink: '7a1c3e10-0001-4a6b-9d1e-3f2a1b000001',
  dollarOff: '7a1c3e10-0002-4a6b-9d1e-3f2a1b000002',
  tenPercent: '7a1c3e10-0003-4a6b-9d1e-3f2a1b000003',
  freePastry: '7a1c3e10-0004-4a6b-9d1e-3f2a1b000004',
  goldQuarter: '7a1c3e10-0005-4a6b-9d1e-3f2a1b000005',
}

const usd = (amountMinor: number) => ({ amountMinor: String(amountMinor), currencyCode: 'USD' })

/** A priced cart: each item is [category, unit price in cents, quantity]. */
export function cart(items: [string, number, number][], chosenRewardIds: string[] = []): Cart {
  const lines = items.map(([category, price, quantity], i) => ({
    lineId: `line-${i + 1}`,
    menuItemId: `${category}-${i + 1}`,
    name: `${category} ${i + 1}`,
    category,
    customization: undefined,
    quantity,
    unitPrice: usd(price),
    lineTotal: usd(price * quantity),
  }))
  return { items: lines, subtotal: usd(lines.reduce((s, l) => s + Number(l.lineTotal.amountMinor), 0)), chosenRewardIds }
}
