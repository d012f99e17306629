import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DrinkSize, MilkType, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { LineSource, OrderKind, type Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import type { OrderLineInput, PlaceGroupOrderResponse } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { createCustomer } from '@brewmesh/customer/test/support.ts'
import { addFavorite } from '@brewmesh/favorites/test/support.ts'
import { grant, SEED } from '@brewmesh/loyalty/test/support.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { failure, unary } from '@brewmesh/testkit/grpc.ts'
import { startTcpProxy } from '@brewmesh/testkit/tcp-proxy.ts'
import { latte, MENU_IDS, place, placeRequest, startMesh, usual, type Mesh, type OrderNode } from './support.ts'

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

function placeGroup(node: OrderNode, header: { requestId: string; customerId: string; rewardIds?: string[] }, lines: OrderLineInput[]) {
  return new Promise<Order>((resolve, reject) => {
    const call = node.client.placeGroupOrder((err, r?: PlaceGroupOrderResponse) => (err ? reject(err) : resolve(r!.order!)))
    call.write({
      message: {
        $case: 'header',
        value: { requestId: header.requestId, customerId: header.customerId, rewardIds: header.rewardIds ?? [], note: '' },
      },
    })
    for (const line of lines) call.write({ message: { $case: 'line', value: line } })
    call.end()
  })
}

describe('PlaceGroupOrder', () => {
  it('streams lines for household members (one of them "my usual") into one order with a per-member breakdown that sums exactly', async () => {
    const household = randomUUID()
    const parent = await createCustomer(mesh.customer.client, { householdId: household, displayName: 'Parent' })
    const child = await createCustomer(mesh.customer.client, { householdId: household, displayName: 'Kid' })
    await eventually(() => unary((cb) => mesh.loyalty.client.getAccount({ customerId: parent.id }, cb)))
    await grant(mesh.loyalty, parent.id, 1000)
    await addFavorite(mesh.favorites.client, child.id, { menuItemId: MENU_IDS.hotChocolate, customization: HOT_CHOCOLATE, pinned: true })

    const order = await placeGroup(mesh.order, { requestId: randomUUID(), customerId: parent.id, rewardIds: [SEED.dollarOff] }, [
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
      placeGroup(mesh.order, { requestId: randomUUID(), customerId: payer.id }, [latte(1, payer.id), latte(1, stranger.id)]),
    )
    expect(err.code).toBe(status.FAILED_PRECONDITION)
    expect(err.details).toContain('household')
    const missing = await failure(placeGroup(mesh.order, { requestId: randomUUID(), customerId: payer.id }, [latte(1, '')]))
    expect(missing.code).toBe(status.INVALID_ARGUMENT)
  })
})

describe('a dependency down', () => {
  it('Loyalty unreachable: rewards answer UNAVAILABLE, nothing is stored, and the same request succeeds once it is back', async () => {
    const proxy = await startTcpProxy('127.0.0.1', mesh.loyalty.app.grpcPort)
    const node = await mesh.startOrder({ LOYALTY_SERVICE_ADDR: `127.0.0.1:${proxy.port}`, LOYALTY_TIMEOUT_MS: '1000' })
    try {
      const customer = await createCustomer(mesh.customer.client)
      await eventually(() => unary((cb) => mesh.loyalty.client.getAccount({ customerId: customer.id }, cb)))
      await grant(mesh.loyalty, customer.id, 1000)
      const request = placeRequest(customer.id, { rewardIds: [SEED.dollarOff] })
      await proxy.cut()
      const err = await failure(place(node.client, request))
      expect(err.code).toBe(status.UNAVAILABLE)
      expect(err.details).toContain('retry with the same request_id')
      const none = await unary<{ orders: Order[] }>((cb) =>
        node.client.listOrders({ pageSize: 5, pageToken: '', customerId: customer.id, householdId: '', statuses: [] }, cb),
      )
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

  it('Customer unreachable: UNAVAILABLE within the caller deadline', async () => {
    const proxy = await startTcpProxy('127.0.0.1', mesh.customer.app.grpcPort)
    const node = await mesh.startOrder({ CUSTOMER_SERVICE_ADDR: `127.0.0.1:${proxy.port}` })
    try {
      await proxy.cut()
      const err = await failure(place(node.client, placeRequest(randomUUID())))
      expect(err.code).toBe(status.UNAVAILABLE)
      expect(err.details).toContain('customer')
    } finally {
      await node.stop()
      await proxy.close()
    }
  })
})
