import { randomUUID } from 'node:crypto'
import { credentials, status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DrinkSize, MilkType, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { LineSource, OrderKind, OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { HealthCheckResponse_ServingStatus as Serving, HealthService } from '@brewmesh/gen/grpc/health/v1/health.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { startTcpProxy } from '@brewmesh/testkit/tcp-proxy.ts'
import {
  addFavorite,
  createCustomer,
  grant,
  heardOf,
  latte,
  MENU_IDS,
  place,
  placeGroup,
  placeRequest,
  SEED,
  startMesh,
  usual,
  type Mesh,
} from './support.ts'

let mesh: Mesh
beforeAll(async () => {
  mesh = await startMesh()
})
afterAll(async () => {
  await mesh?.stop()
})

const HOT_CHOCOLATE: DrinkCustomization = {
  size: DrinkSize.DRINK_SIZE_SMALL,
  milk: MilkType.MILK_TYPE_WHOLE,
  extraShots: 0,
  syrups: [],
  temperature: 0,
  sweetness: 0,
}

describe('PlaceGroupOrder', () => {
  it('streams lines for household members (one of them "my usual") into one order with a per-member breakdown that sums exactly', async () => {
    const household = randomUUID()
    const parent = await createCustomer(mesh.customer.client, { householdId: household, displayName: 'Parent' })
    const child = await createCustomer(mesh.customer.client, { householdId: household, displayName: 'Kid' })
    await eventually(() => mesh.loyalty.client.getAccount({ customerId: parent.id }))
    await grant(mesh.loyalty.client, parent.id, 1000)
    await addFavorite(mesh.favorites.client, child.id, { menuItemId: MENU_IDS.hotChocolate, customization: HOT_CHOCOLATE, pinned: true })

    const order = await placeGroup(mesh.order.client, { requestId: randomUUID(), customerId: parent.id, rewardIds: [SEED.dollarOff] }, [
      latte(2, parent.id),
      usual(child.id),
    ])
    expect(order).toMatchObject({ kind: OrderKind.ORDER_KIND_GROUP, householdId: household, customerId: parent.id })
    expect(order.lines.map((l) => [l.memberCustomerId, l.memberDisplayName, l.source])).toEqual([
      [parent.id, 'Parent', LineSource.LINE_SOURCE_MENU],
      [child.id, 'Kid', LineSource.LINE_SOURCE_USUAL],
    ])
    expect(order.memberBreakdowns.map((b) => b.memberCustomerId)).toEqual([parent.id, child.id])
    for (const field of ['subtotal', 'discount', 'tax', 'total'] as const) {
      const sum = order.memberBreakdowns.reduce((s, b) => s + Number(b[field]?.amountMinor), 0)
      expect(sum, field).toBe(Number(order[field]?.amountMinor))
    }
    expect(order.discount?.amountMinor).toBe('100')
  })

  it('refuses a member from another household, and a line without a member', async () => {
    const payer = await createCustomer(mesh.customer.client, { householdId: randomUUID() })
    const stranger = await createCustomer(mesh.customer.client, { householdId: randomUUID() })
    const err = await failure(
      placeGroup(mesh.order.client, { requestId: randomUUID(), customerId: payer.id }, [latte(1, payer.id), latte(1, stranger.id)]),
    )
    expect(err.code).toBe(status.FAILED_PRECONDITION)
    expect(err.details).toContain('household')
    const missing = await failure(placeGroup(mesh.order.client, { requestId: randomUUID(), customerId: payer.id }, [latte(1, '')]))
    expect(missing.code).toBe(status.INVALID_ARGUMENT)
  })
})

describe('a dependency down', () => {
  it('Loyalty unreachable: rewards answer UNAVAILABLE, nothing is stored, and the same request succeeds once it is back', async () => {
    const proxy = await startTcpProxy('127.0.0.1', mesh.loyalty.app.grpcPort)
    const node = await mesh.startOrder({ LOYALTY_SERVICE_ADDR: `127.0.0.1:${proxy.port}`, LOYALTY_TIMEOUT_MS: '1000' })
    try {
      const customer = await createCustomer(mesh.customer.client)
      await eventually(() => mesh.loyalty.client.getAccount({ customerId: customer.id }))
      await grant(mesh.loyalty.client, customer.id, 1000)
      const request = placeRequest(customer.id, { rewardIds: [SEED.dollarOff] })
      await proxy.cut()
      const err = await failure(place(node.client, request))
      expect(err.code).toBe(status.UNAVAILABLE)
      expect(err.details).toContain('retry with the same request_id')
      const none = await node.client.listOrders({ pageSize: 5, pageToken: '', customerId: customer.id, householdId: '', statuses: [] })
      expect(none.orders).toEqual([])
      // Without rewards the order does not need Loyalty.
      expect((await place(node.client, placeRequest(customer.id))).appliedRewards).toEqual([])
      await proxy.restore()
      const order = await eventually(() => place(node.client, request), { timeoutMs: 15_000, intervalMs: 500 })
      expect(order.appliedRewards).toHaveLength(1)
    } finally {
      await node.stop()
      await proxy.close()
    }
  })

  it('Customer unreachable: a customer the Order Service has heard of still orders; one it has not answers UNAVAILABLE within the caller deadline', async () => {
    const proxy = await startTcpProxy('127.0.0.1', mesh.customer.app.grpcPort)
    const node = await mesh.startOrder({ CUSTOMER_SERVICE_ADDR: `127.0.0.1:${proxy.port}` })
    try {
      const known = await createCustomer(mesh.customer.client)
      await eventually(async () => expect(await heardOf(node, known.id)).toBeDefined())
      await proxy.cut()
      expect((await place(node.client, placeRequest(known.id))).customerId).toBe(known.id)
      const err = await failure(place(node.client, placeRequest(randomUUID())))
      expect(err.code).toBe(status.UNAVAILABLE)
      expect(err.details).toContain('customer')
    } finally {
      await node.stop()
      await proxy.close()
    }
  })

  it('Valkey down: PlaceOrder still answers at once, its payment is answered all the same, and health names Valkey as degraded', async () => {
    const proxy = await startTcpProxy(mesh.order.config.valkey.host, mesh.order.config.valkey.port)
    const node = await mesh.startOrder({ VALKEY_PORT: String(proxy.port), VALKEY_HOST: '127.0.0.1' })
    const health = createClient(HealthService, node.address, credentials.createInsecure())
    try {
      const customer = await createCustomer(mesh.customer.client)
      await proxy.cut()
      // A deadline the caller would miss if the placement waited for Valkey to come back.
      const order = await node.client.placeOrder(placeRequest(customer.id), { deadline: Date.now() + 5000 }).then((r) => r.order!)
      expect(order.status).toBe(OrderStatus.ORDER_STATUS_PLACED)
      // Payments are answered from PostgreSQL: Valkey plays no part.
      await eventually(async () => expect((await node.client.getOrder({ id: order.id })).order?.status).toBe(OrderStatus.ORDER_STATUS_PAID))
      const statusOf = (service: string) => health.check({ service }).then((r) => r.status)
      await eventually(async () => expect(await statusOf('dependency/valkey')).toBe(Serving.NOT_SERVING))
      expect(await statusOf('')).toBe(Serving.SERVING)
      expect(await statusOf('dependency/postgres')).toBe(Serving.SERVING)
      await proxy.restore()
      await eventually(async () => expect(await statusOf('dependency/valkey')).toBe(Serving.SERVING))
    } finally {
      health.close()
      await node.stop()
      await proxy.close()
    }
  })
})
