import { credentials } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { FavoritesServiceService } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { LoyaltyServiceService } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { OrderServiceService } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { startMesh, type Mesh } from '@brewmesh/testkit/mesh.ts'
import { bearer, testIssuer } from '@brewmesh/testkit/tokens.ts'
import { simulateDay, type DemoClients, type MemberOutcome } from '../../../scripts/demo.ts'

// The whole mesh as four separate Node processes (main.ts, as deployed) on real PostgreSQL,
// Valkey and Kafka, driven by the demo's simulated day through the Order Service.
let mesh: Mesh | undefined
let clients: DemoClients
let outcomes: MemberOutcome[]

beforeAll(async () => {
  const issuer = await testIssuer()
  mesh = await startMesh(inject('infra').env, issuer, {
    env: { LOG_LEVEL: 'warn', STATS_ROLLUP_DEBOUNCE_MS: '100', PAYMENT_DELAY_MS: '200', PAYMENT_SUCCESS_PERCENT: '100' },
  })
  const { ports } = mesh
  const options = {
    interceptors: [bearer(await issuer.mint({ sub: 'mesh-test', roles: ['barista', 'support', 'operator'] }, { expiresIn: 3600 }))],
  }
  clients = {
    customer: createClient(CustomerServiceService, `127.0.0.1:${ports.customer}`, credentials.createInsecure(), options),
    favorites: createClient(FavoritesServiceService, `127.0.0.1:${ports.favorites}`, credentials.createInsecure(), options),
    loyalty: createClient(LoyaltyServiceService, `127.0.0.1:${ports.loyalty}`, credentials.createInsecure(), options),
    order: createClient(OrderServiceService, `127.0.0.1:${ports.order}`, credentials.createInsecure(), options),
  }
  outcomes = await simulateDay(clients, { households: 3, orders: 14, cancelShare: 0.15, log: () => undefined })
}, 240_000)

afterAll(async () => {
  for (const c of clients ? [clients.customer, clients.favorites, clients.loyalty, clients.order] : []) c.close()
  await mesh?.stop()
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
    expect(await mesh!.stop()).toEqual({ customer: 0, favorites: 0, loyalty: 0, order: 0 })
  })
})
