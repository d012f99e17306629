import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MilkType } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { OrderStatus, PaymentStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { WatchOrderResponse_ChangeKind as Kind, type WatchOrderResponse } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { errorReasonOf, fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { topicRecorder } from '@brewmesh/testkit/kafka.ts'
import { failure, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { createCustomer, heardOf, latte, MENU_IDS, place, placeRequest, startMesh, usual, type Mesh } from './support.ts'

let mesh: Mesh
beforeAll(async () => {
  mesh = await startMesh()
})
afterAll(async () => {
  await mesh?.stop()
})

const get = (id: string) => mesh.order.client.getOrder({ id }).then((r) => r.order!)
const advance = (id: string, expectedStatus: OrderStatus) => mesh.order.client.advanceOrder({ id, expectedStatus }).then((r) => r.order!)
const paid = (id: string) => eventually(async () => expect((await get(id)).status).toBe(OrderStatus.ORDER_STATUS_PAID))

describe('the menu', () => {
  it('lists items by category, availability and position, and gets one', async () => {
    const all = await mesh.order.client.listMenuItems({ pageSize: 100, pageToken: '', category: '', availableOnly: false })
    expect(all.items.length).toBeGreaterThanOrEqual(12)
    const tea = await mesh.order.client.listMenuItems({ pageSize: 0, pageToken: '', category: 'tea', availableOnly: true })
    expect(tea.items.map((i) => i.name)).toEqual(['Chai Latte', 'Earl Grey'])
    const available = await mesh.order.client.listMenuItems({ pageSize: 0, pageToken: '', category: '', availableOnly: true })
    expect(available.items.some((i) => i.id === MENU_IDS.pumpkinSpice)).toBe(false)
    const item = await mesh.order.client.getMenuItem({ id: MENU_IDS.latte })
    expect(item.item).toMatchObject({ name: 'Caffè Latte', basePrice: { amountMinor: '450', currencyCode: 'USD' } })
    expect((await failure(mesh.order.client.getMenuItem({ id: randomUUID() }))).code).toBe(status.NOT_FOUND)
  })
})

describe('PlaceOrder', () => {
  it('prices the lines from the menu in integer cents, with tax, and the mock processor pays it', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const order = await place(mesh.order.client, placeRequest(customer.id, { lines: [latte(2)], note: 'name on cup: Ada' }))
    // Medium latte 4.50 + oat 0.70 = 5.20, two of them 10.40, tax 8.25 % = 0.858 → 0.86.
    expect(order).toMatchObject({
      customerId: customer.id,
      customerDisplayName: customer.displayName,
      status: OrderStatus.ORDER_STATUS_PLACED,
      subtotal: { amountMinor: '1040' },
      discount: { amountMinor: '0' },
      tax: { amountMinor: '86' },
      total: { amountMinor: '1126' },
      taxRateBps: 825,
      payment: { status: PaymentStatus.PAYMENT_STATUS_PENDING, amount: { amountMinor: '1126' } },
      version: 1,
    })
    expect(order.lines[0]).toMatchObject({
      menuItemName: 'Caffè Latte',
      category: 'espresso',
      unitPrice: { amountMinor: '520' },
      memberCustomerId: customer.id,
    })
    expect(order.lines[0]?.customization).toMatchObject({ milk: MilkType.MILK_TYPE_OAT, temperature: 1 }) // resolved from the recipe
    await paid(order.id)
    expect((await get(order.id)).payment).toMatchObject({
      status: PaymentStatus.PAYMENT_STATUS_APPROVED,
      processorReference: expect.stringMatching(/^mock-/) as string,
    })
  })

  it('returns the same order for a retry with the same key, even concurrent, and refuses the key for another order', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const request = placeRequest(customer.id)
    const orders = await Promise.all(Array.from({ length: 8 }, () => place(mesh.order.client, request)))
    expect(new Set(orders.map((o) => o.id)).size).toBe(1)
    const list = await mesh.order.client.listOrders({ pageSize: 10, pageToken: '', customerId: customer.id, householdId: '', statuses: [] })
    expect(list.orders).toHaveLength(1)
    // The retries that found the order stored recorded nothing: one OrderPlaced in the outbox.
    const placedEvents = await sqlQuery<{ n: number }>(
      mesh.order.env,
      `select count(*)::int as n from outbox where key = $1 and headers->>'event-type' = 'brewmesh.order.v1.OrderPlaced'`,
      [orders[0]!.id],
    )
    expect(placedEvents[0]!.n).toBe(1)
    const err = await failure(place(mesh.order.client, { ...request, lines: [latte(3)] }))
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(['request_id'])
  })

  it('stores the order document compressed with lz4 (migration 0007), and reads it back whole', async () => {
    const customer = await createCustomer(mesh.customer.client)
    // Three lines make the row longer than PostgreSQL's TOAST threshold: the document is compressed.
    const order = await place(
      mesh.order.client,
      placeRequest(customer.id, { lines: [latte(1), latte(2), latte(3)], note: 'three for the road' }),
    )
    const [row] = await sqlQuery<{ compression: string | null; stored: number; raw: number }>(
      mesh.order.env,
      `select pg_column_compression(doc) as compression, pg_column_size(doc) as stored, octet_length(doc::text) as raw from orders where id = $1`,
      [order.id],
    )
    expect(row).toMatchObject({ compression: 'lz4' })
    expect(row!.stored).toBeLessThan(row!.raw)
    expect(await get(order.id)).toEqual(order)
  })

  it('reports every invalid field, and what the menu does not allow', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const bad = latte(21)
    if (bad.item?.$case === 'drink')
      bad.item.value.customization = { ...bad.item.value.customization!, milk: MilkType.MILK_TYPE_NONE, syrups: ['bacon'], extraShots: 9 }
    const err = await failure(
      place(
        mesh.order.client,
        placeRequest(customer.id, {
          lines: [
            bad,
            { quantity: 1, memberCustomerId: '', item: { $case: 'drink', value: { menuItemId: randomUUID(), customization: undefined } } },
          ],
        }),
      ),
    )
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(['lines[0].quantity'])
    const err2 = await failure(
      place(
        mesh.order.client,
        placeRequest(customer.id, {
          lines: [
            { ...bad, quantity: 1 },
            { quantity: 1, memberCustomerId: '', item: { $case: 'drink', value: { menuItemId: randomUUID(), customization: undefined } } },
          ],
        }),
      ),
    )
    expect(
      fieldViolationsOf(err2)
        .map((v) => v.field)
        .sort(),
    ).toEqual(
      [
        'lines[0].drink.customization.milk',
        'lines[0].drink.customization.extra_shots',
        'lines[0].drink.customization.syrups',
        'lines[1].drink.menu_item_id',
      ].sort(),
    )
  })

  it('refuses with FAILED_PRECONDITION: an unknown or inactive customer, an unavailable drink, no usual', async () => {
    const unknown = await failure(place(mesh.order.client, placeRequest(randomUUID())))
    expect([unknown.code, errorReasonOf(unknown)]).toEqual([status.FAILED_PRECONDITION, 'CUSTOMER_NOT_FOUND'])
    const inactive = await createCustomer(mesh.customer.client)
    await mesh.customer.client.deactivateCustomer({ id: inactive.id, reason: 'test' })
    // Until the Order Service has heard of the deactivation it may still accept an order (customer-facts.int.test.ts).
    await eventually(async () => expect((await heardOf(mesh.order, inactive.id))?.active).toBe(false))
    const notActive = await failure(place(mesh.order.client, placeRequest(inactive.id)))
    expect(notActive.details).toContain('not active')
    expect(errorReasonOf(notActive)).toBe('CUSTOMER_INACTIVE')
    const customer = await createCustomer(mesh.customer.client)
    const seasonal = {
      quantity: 1,
      memberCustomerId: '',
      item: { $case: 'drink' as const, value: { menuItemId: MENU_IDS.pumpkinSpice, customization: undefined } },
    }
    const unavailable = await failure(place(mesh.order.client, placeRequest(customer.id, { lines: [seasonal] })))
    expect(unavailable.details).toContain('not available')
    expect(errorReasonOf(unavailable)).toBe('ITEM_UNAVAILABLE')
    const noUsual = await failure(place(mesh.order.client, placeRequest(customer.id, { lines: [usual()] })))
    expect(noUsual.code).toBe(status.FAILED_PRECONDITION)
    expect(noUsual.details).toContain('no usual')
    expect(errorReasonOf(noUsual)).toBe('NO_USUAL')
  })
})

describe('the lifecycle', () => {
  it('advances PAID → PREPARING → READY → COMPLETED, watched from another replica, and refuses illegal moves', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const order = await place(mesh.order.client, placeRequest(customer.id))
    await paid(order.id)
    const replica = await mesh.startOrder()
    const watch = new StreamReader<WatchOrderResponse>(replica.client.watchOrder({ id: order.id }))
    expect(await watch.next()).toMatchObject({ kind: Kind.CHANGE_KIND_SNAPSHOT, order: { status: OrderStatus.ORDER_STATUS_PAID } })

    const stale = await failure(advance(order.id, OrderStatus.ORDER_STATUS_READY))
    expect(stale.code).toBe(status.FAILED_PRECONDITION)
    expect(errorReasonOf(stale)).toBe('STATUS_MISMATCH')
    await advance(order.id, OrderStatus.ORDER_STATUS_PAID)
    await advance(order.id, OrderStatus.ORDER_STATUS_PREPARING)
    const done = await advance(order.id, OrderStatus.ORDER_STATUS_READY)
    expect(done).toMatchObject({ status: OrderStatus.ORDER_STATUS_COMPLETED, version: 5 })
    expect(done.completedAt).toBeInstanceOf(Date)
    const statuses = [await watch.next(), await watch.next(), await watch.next()].map((m) => [m.kind, m.order?.status])
    expect(statuses).toEqual([
      [Kind.CHANGE_KIND_STATUS_CHANGED, OrderStatus.ORDER_STATUS_PREPARING],
      [Kind.CHANGE_KIND_STATUS_CHANGED, OrderStatus.ORDER_STATUS_READY],
      [Kind.CHANGE_KIND_STATUS_CHANGED, OrderStatus.ORDER_STATUS_COMPLETED],
    ])
    expect(await watch.end()).toBeUndefined() // the stream ends with OK once the order is final
    // A retry of the last step finds it done: the order unchanged. Any other mismatch is refused.
    expect(await advance(order.id, OrderStatus.ORDER_STATUS_READY)).toEqual(done)
    const past = await failure(advance(order.id, OrderStatus.ORDER_STATUS_PAID))
    expect([past.code, errorReasonOf(past)]).toEqual([status.FAILED_PRECONDITION, 'STATUS_MISMATCH'])
    const cancel = await failure(mesh.order.client.cancelOrder({ requestId: randomUUID(), id: order.id, reason: 'late' }))
    expect([cancel.code, errorReasonOf(cancel)]).toEqual([status.FAILED_PRECONDITION, 'ILLEGAL_TRANSITION'])
  })

  it('cancels a paid order with a refund, by the customer, and a retried cancel changes nothing', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const order = await place(mesh.order.client, placeRequest(customer.id))
    await paid(order.id)
    const mine = await mesh.order.as({ sub: customer.id, roles: ['customer'] })
    const cancel = () => mine.cancelOrder({ requestId: randomUUID(), id: order.id, reason: 'changed my mind' }).then((r) => r.order!)
    const cancelled = await cancel()
    expect(cancelled).toMatchObject({
      status: OrderStatus.ORDER_STATUS_CANCELLED,
      cancelReason: 'changed my mind',
      cancelReasonCode: 1,
      payment: { status: PaymentStatus.PAYMENT_STATUS_REFUNDED, refundedAmount: { amountMinor: order.total?.amountMinor } },
    })
    expect((await cancel()).version).toBe(cancelled.version)
  })

  it('two replicas of one deployment pay every order once: each due payment is taken by one of them', async () => {
    const second = await mesh.startOrder()
    const recorder = await topicRecorder(mesh.order.env['KAFKA_BROKERS']!, TOPICS.orderEvents + mesh.order.env['KAFKA_TOPIC_SUFFIX'])
    try {
      const customer = await createCustomer(mesh.customer.client)
      const orders = await Promise.all(
        Array.from({ length: 30 }, (_, i) => place((i % 2 ? second : mesh.order).client, placeRequest(customer.id))),
      )
      const ids = new Set(orders.map((o) => o.id))
      await eventually(async () => {
        for (const o of orders) expect((await get(o.id)).status).toBe(OrderStatus.ORDER_STATUS_PAID)
      })
      const paidEvents = await eventually(() => {
        const paid = recorder.messages
          .map((m) => OrderEvent.decode(m.value!))
          .filter((e) => e.payload?.$case === 'paymentProcessed' && ids.has(e.orderId))
        expect(paid).toHaveLength(orders.length)
        return paid
      })
      expect(new Set(paidEvents.map((e) => e.orderId)).size).toBe(orders.length) // one each, none twice
    } finally {
      await recorder.stop()
    }
  })

  it('declines payments at the configured rate: the order is cancelled PAYMENT_DECLINED', async () => {
    // A deployment of its own: whichever replica of a deployment takes a due payment answers it.
    const declining = await mesh.startOrder({ PAYMENT_SUCCESS_PERCENT: '0', DB_SCHEMA: `order_d${randomUUID().slice(0, 8)}` })
    const customer = await createCustomer(mesh.customer.client)
    const order = await place(declining.client, placeRequest(customer.id))
    const cancelled = await eventually(async () => {
      const o = await declining.client.getOrder({ id: order.id }).then((r) => r.order!)
      expect(o.status).toBe(OrderStatus.ORDER_STATUS_CANCELLED)
      return o
    })
    expect(cancelled).toMatchObject({
      cancelReasonCode: 3,
      payment: { status: PaymentStatus.PAYMENT_STATUS_DECLINED },
      cancelledBy: { kind: 4 },
    })
  })
})

describe('ListOrders', () => {
  it('pages a customer orders newest first, filtered by status, and keeps tokens to their filters', async () => {
    const customer = await createCustomer(mesh.customer.client)
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await place(mesh.order.client, placeRequest(customer.id))).id)
    await Promise.all(ids.map(paid))
    await advance(ids[0]!, OrderStatus.ORDER_STATUS_PAID)
    const list = (pageSize: number, pageToken = '', statuses: OrderStatus[] = []) =>
      mesh.order.client.listOrders({ pageSize, pageToken, customerId: customer.id, householdId: '', statuses })
    const first = await list(2)
    const second = await list(2, first.nextPageToken)
    expect([...first.orders, ...second.orders].map((o) => o.id)).toEqual([...ids].reverse())
    expect(second.nextPageToken).toBe('')
    expect((await list(10, '', [OrderStatus.ORDER_STATUS_PREPARING])).orders.map((o) => o.id)).toEqual([ids[0]])
    expect((await failure(list(2, first.nextPageToken, [OrderStatus.ORDER_STATUS_PAID]))).code).toBe(status.INVALID_ARGUMENT)
  })
})
