import { randomUUID } from 'node:crypto'
import { inject } from 'vitest'
import { LoyaltyServiceClient, type AdjustPointsResponse } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import type { Cart } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import { clientChannelCredentials } from '@brewmesh/runtime/auth/outbound.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import { publish, customerEvent } from '@brewmesh/testkit/contract-events.ts'
import { bearer, testIssuer, type TestIssuer, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { migrateLoyalty, startApp, type App, type AppOptions } from '../src/app.ts'
import { readConfig, type LoyaltyConfig } from '../src/config.ts'

export interface Running {
  app: App
  /** A client with an operator + support staff token. */
  client: LoyaltyServiceClient
  /** A client with the Order Service's identity. */
  order: LoyaltyServiceClient
  issuer: TestIssuer
  clientAs(claims: TokenClaims): Promise<LoyaltyServiceClient>
  config: LoyaltyConfig
  env: Record<string, string>
  stop(): Promise<void>
}

/** A fresh isolated environment (own schema, topics, key prefix) on the shared test servers. */
export function loyaltyEnv(extra: Record<string, string> = {}): Record<string, string> {
  return isolatedEnv('loyalty', inject('infra').env, extra)
}

export const brokers = () => inject('infra').env['KAFKA_BROKERS']

export const STAFF: TokenClaims = { sub: 'staff-test', roles: ['support', 'operator'] }
export const ORDER_SERVICE: TokenClaims = { sub: 'order', roles: ['service'] }

/** Migrates and starts the Loyalty service in-process on port 0. */
export async function startLoyalty(
  env: Record<string, string>,
  options: { migrate?: boolean; waitForKafka?: boolean } & AppOptions = {},
): Promise<Running> {
  const issuer = await testIssuer()
  const config = readConfig({ ...issuer.env, ...env })
  const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
  if (options.migrate !== false) await migrateLoyalty(config, log)
  const app = await startApp(config, options.clock ? { clock: options.clock } : {})
  if (options.waitForKafka !== false) await Promise.all([app.feedReady, app.inboxReady])
  const address = `127.0.0.1:${app.grpcPort}`
  const clients: LoyaltyServiceClient[] = []
  const clientAs = async (claims: TokenClaims) => {
    const c = new LoyaltyServiceClient(address, clientChannelCredentials({ ca: undefined }), {
      interceptors: [bearer(await issuer.mint(claims))],
    })
    clients.push(c)
    return c
  }
  const client = await clientAs(STAFF)
  const order = await clientAs(ORDER_SERVICE)
  return {
    app,
    client,
    order,
    issuer,
    clientAs,
    config,
    env,
    async stop() {
      for (const c of clients) c.close()
      await app.stop()
    },
  }
}

export const cleanup = (env: Record<string, string>) => dropSchema(env)

/** Opens an account through the real path: a CustomerCreated event on the customer topic. */
export async function openAccount(svc: Running, customerId = randomUUID()): Promise<string> {
  await publish(brokers(), `brewmesh.customer.events.v1${svc.env['KAFKA_TOPIC_SUFFIX']}`, [customerEvent('created', { id: customerId })])
  const { eventually } = await import('@brewmesh/testkit/env.ts')
  await eventually(() => unary((cb) => svc.client.getAccount({ customerId }, cb)))
  return customerId
}

/** Gives a customer points through AdjustPoints. */
export function grant(svc: Running, customerId: string, points: number, requestId = randomUUID()) {
  return unary<AdjustPointsResponse>((cb) =>
    svc.client.adjustPoints({ requestId, customerId, points: String(points), reason: 'test grant' }, cb),
  )
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
