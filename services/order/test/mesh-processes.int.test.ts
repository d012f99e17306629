import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { credentials } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { CustomerServiceClient } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { FavoritesServiceClient } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { LoyaltyServiceClient } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { OrderServiceClient } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { freePort } from '@brewmesh/testkit/infra.ts'
import { migrateProcess, startProcess, type ServiceProcess } from '@brewmesh/testkit/processes.ts'
import { bearer, testIssuer } from '@brewmesh/testkit/tokens.ts'
import { simulateDay, type DemoClients, type MemberOutcome } from '../../../scripts/demo.ts'

// The whole mesh as four separate Node processes (main.ts, as deployed) on real PostgreSQL,
// Valkey and Kafka, driven by the demo's simulated day through the Order Service.
const SERVICES = ['customer', 'favorites', 'loyalty', 'order'] as const
const running: ServiceProcess[] = []
const envs: Record<string, string>[] = []
let clients: DemoClients
let outcomes: MemberOutcome[]

beforeAll(async () => {
  const issuer = await testIssuer()
  const suffix = `.p${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()] as const))) as Record<
    (typeof SERVICES)[number],
    number
  >
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'brewmesh-')), 'order.token')
  writeFileSync(tokenFile, await issuer.mint({ sub: 'order', roles: ['service'] }, { expiresIn: 3600 }))
  for (const service of SERVICES) {
    const env = isolatedEnv(service, inject('infra').env, {
      ...issuer.env,
      KAFKA_TOPIC_SUFFIX: suffix,
      LOG_LEVEL: 'warn',
      STATS_ROLLUP_DEBOUNCE_MS: '100',
      PAYMENT_DELAY_MS: '200',
      PAYMENT_SUCCESS_PERCENT: '100',
      SERVICE_TOKEN_FILE: tokenFile,
      CUSTOMER_SERVICE_ADDR: `dns:///127.0.0.1:${ports.customer}`,
      FAVORITES_SERVICE_ADDR: `dns:///127.0.0.1:${ports.favorites}`,
      LOYALTY_SERVICE_ADDR: `dns:///127.0.0.1:${ports.loyalty}`,
    })
    envs.push(env)
    await migrateProcess(service, env)
    running.push(await startProcess(service, ports[service], env))
  }
  const options = {
    interceptors: [bearer(await issuer.mint({ sub: 'mesh-test', roles: ['barista', 'support', 'operator'] }, { expiresIn: 3600 }))],
  }
  clients = {
    customer: new CustomerServiceClient(`127.0.0.1:${ports.customer}`, credentials.createInsecure(), options),
    favorites: new FavoritesServiceClient(`127.0.0.1:${ports.favorites}`, credentials.createInsecure(), options),
    loyalty: new LoyaltyServiceClient(`127.0.0.1:${ports.loyalty}`, credentials.createInsecure(), options),
    order: new OrderServiceClient(`127.0.0.1:${ports.order}`, credentials.createInsecure(), options),
  }
  outcomes = await simulateDay(clients, { households: 3, orders: 14, cancelShare: 0.15, log: () => undefined })
}, 240_000)

afterAll(async () => {
  for (const c of clients ? [clients.customer, clients.favorites, clients.loyalty, clients.order] : []) c.close()
  for (const p of [...running].reverse()) await p.stop()
  for (const env of envs) await dropSchema(env)
})

describe('the mesh as four processes, through a simulated day', () => {
  it('statistics from the rollups match the orders each member paid for or had a drink in; only payers spent', () => {
    const payers = outcomes.filter((o) => o.paid > 0)
    expect(payers.length).toBeGreaterThan(0)
    for (const o of outcomes) {
      expect(o.stats, `${o.customer.displayName}: rollup caught up`).toBeDefined()
      expect([Number(o.stats?.ordersPlaced), Number(o.stats?.ordersCompleted), Number(o.stats?.ordersCancelled)]).toEqual([
        o.placed,
        o.completed,
        o.cancelled,
      ])
      if (o.paid === 0) expect(Number(o.stats?.totalSpent?.amountMinor), `${o.customer.displayName} paid nothing`).toBe(0)
    }
    expect(payers.some((o) => o.completed > 0 && Number(o.stats?.totalSpent?.amountMinor) > 0)).toBe(true)
    // The day has a group order: a member who paid for nothing still has orders.
    expect(outcomes.some((o) => o.paid === 0 && o.placed > 0)).toBe(true)
  })

  it('completed orders earned points beyond the welcome bonus, and pinned usuals are served', () => {
    // Points go to the payer (each household's payer pays for all its orders).
    for (const o of outcomes.filter((x) => x.paid > 0 && x.completed > 0))
      expect(Number(o.account?.lifetimePoints), o.customer.displayName).toBeGreaterThan(600)
    expect(outcomes.filter((o) => o.usual?.drink?.$case === 'favorite').length).toBeGreaterThan(0)
  })

  it('every process shuts down gracefully on SIGTERM', async () => {
    const codes = []
    for (const p of [...running].reverse()) codes.push(await p.stop())
    expect(codes).toEqual([0, 0, 0, 0])
  })
})
