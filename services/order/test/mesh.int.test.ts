import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DrinkSize, MilkType, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { LedgerEntryKind, type LedgerEntry } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import { LineSource, OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { errorReasonOf } from '@brewmesh/sdk/errors.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { publish } from '@brewmesh/testkit/contract-events.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { topicRecorder } from '@brewmesh/testkit/kafka.ts'
import {
  addFavorite,
  createCustomer,
  grant,
  loyaltyOrderLookup,
  MENU_IDS,
  place,
  placeRequest,
  SEED,
  startMesh,
  usual,
  type Mesh,
} from './support.ts'

let mesh: Mesh
let orderTopic: string
beforeAll(async () => {
  mesh = await startMesh()
  orderTopic = `${TOPICS.orderEvents}${mesh.order.env['KAFKA_TOPIC_SUFFIX']}`
})
afterAll(async () => {
  await mesh?.stop()
})

const OAT_LATTE: DrinkCustomization = {
  size: DrinkSize.DRINK_SIZE_MEDIUM,
  milk: MilkType.MILK_TYPE_OAT,
  extraShots: 0,
  syrups: [],
  temperature: 0,
  sweetness: 0,
}
const get = (id: string) => mesh.order.client.getOrder({ id }).then((r) => r.order!)
const until = (id: string, s: OrderStatus) => eventually(async () => expect((await get(id)).status).toBe(s))
const advanceToCompleted = async (id: string) => {
  for (const expectedStatus of [OrderStatus.ORDER_STATUS_PAID, OrderStatus.ORDER_STATUS_PREPARING, OrderStatus.ORDER_STATUS_READY])
    await mesh.order.client.advanceOrder({ id, expectedStatus })
}
const account = (customerId: string) => mesh.loyalty.client.getAccount({ customerId }).then((r) => r.account!)
const entries = (customerId: string, orderId: string) =>
  mesh.loyalty.client.listTransactions({ customerId, pageSize: 100, pageToken: '', kinds: [], orderId }).then((r) => r.entries)
const kindsOf = (list: LedgerEntry[]) => list.map((e) => e.kind).sort()

/** A customer with an account holding `points` and a pinned oat latte as their usual. */
async function regular(points: number) {
  const customer = await createCustomer(mesh.customer.client)
  await eventually(() => account(customer.id)) // opened from CustomerCreated
  await grant(mesh.loyalty.client, customer.id, points)
  const favorite = await addFavorite(mesh.favorites.client, customer.id, {
    menuItemId: MENU_IDS.latte,
    customization: OAT_LATTE,
    pinned: true,
  })
  return { customer, favorite }
}

describe('an order across the mesh', () => {
  it('my usual with a reward, paid and completed: points earned once, the reward confirmed, the drink counted by favorites', async () => {
    const { customer, favorite } = await regular(2000)
    const recorder = await topicRecorder(mesh.order.env['KAFKA_BROKERS']!, orderTopic)
    const order = await place(mesh.order.client, placeRequest(customer.id, { lines: [usual()], rewardIds: [SEED.dollarOff] }))
    expect(order.lines[0]).toMatchObject({
      source: LineSource.LINE_SOURCE_USUAL,
      favoriteId: favorite.favoriteId,
      menuItemId: MENU_IDS.latte,
      unitPrice: { amountMinor: '520' },
    })
    expect(order.appliedRewards).toEqual([
      expect.objectContaining({ rewardId: SEED.dollarOff, discount: { amountMinor: '100', currencyCode: 'USD' }, pointsCost: '400' }),
    ])
    expect(order).toMatchObject({
      subtotal: { amountMinor: '520' },
      discount: { amountMinor: '100' },
      tax: { amountMinor: '35' },
      total: { amountMinor: '455' },
    })
    expect((await account(customer.id)).reservedPoints).toBe('400')

    await until(order.id, OrderStatus.ORDER_STATUS_PAID)
    await advanceToCompleted(order.id)

    const settled = await eventually(async () => {
      const list = await entries(customer.id, order.id)
      expect(kindsOf(list)).toEqual(
        [
          LedgerEntryKind.LEDGER_ENTRY_KIND_EARN,
          LedgerEntryKind.LEDGER_ENTRY_KIND_RESERVE,
          LedgerEntryKind.LEDGER_ENTRY_KIND_CONFIRM,
        ].sort(),
      )
      return account(customer.id)
    })
    expect(settled.reservedPoints).toBe('0')
    // The completion delivered again (as Kafka may): nothing is earned twice.
    const completed = await eventually(() => {
      const m = recorder.messages.find(
        (x) => x.headers?.['event-type']?.toString() === 'brewmesh.order.v1.OrderCompleted' && x.key?.toString() === order.id,
      )
      if (!m) throw new Error('OrderCompleted not published yet')
      return m
    })
    await recorder.stop()
    await publish(mesh.order.env['KAFKA_BROKERS']!, orderTopic, [
      { key: order.id, value: completed.value!, headers: { 'event-id': completed.headers!['event-id']!.toString() } },
    ])
    const usualNow = await eventually(async () => {
      const r = await mesh.favorites.client.getUsual({ customerId: customer.id })
      expect(r.usual?.completedCount).toBe('1')
      return r.usual
    })
    expect(usualNow?.drink).toMatchObject({ $case: 'favorite', value: { favoriteId: favorite.favoriteId } })
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(kindsOf(await entries(customer.id, order.id)).filter((k) => k === LedgerEntryKind.LEDGER_ENTRY_KIND_EARN)).toHaveLength(1)
    expect((await account(customer.id)).balance).toBe(settled.balance)
  })

  it('a declined payment releases the reserved points', async () => {
    const { customer } = await regular(1000)
    // A deployment of its own: whichever replica of a deployment takes a due payment answers it.
    const declining = await mesh.startOrder({ PAYMENT_SUCCESS_PERCENT: '0', DB_SCHEMA: `order_d${randomUUID().slice(0, 8)}` })
    const before = await account(customer.id)
    const order = await place(declining.client, placeRequest(customer.id, { lines: [usual()], rewardIds: [SEED.dollarOff] }))
    await eventually(async () =>
      expect((await declining.client.getOrder({ id: order.id }).then((r) => r.order!)).status).toBe(OrderStatus.ORDER_STATUS_CANCELLED),
    )
    const after = await eventually(async () => {
      expect(kindsOf(await entries(customer.id, order.id))).toContain(LedgerEntryKind.LEDGER_ENTRY_KIND_RELEASE)
      return account(customer.id)
    })
    expect(after).toMatchObject({ balance: before.balance, reservedPoints: '0' })
  })

  it('a cancelled order releases the reservation; a retried PlaceOrder reserved nothing twice', async () => {
    const { customer } = await regular(1000)
    const request = placeRequest(customer.id, { lines: [usual()], rewardIds: [SEED.dollarOff] })
    const order = await place(mesh.order.client, request)
    await place(mesh.order.client, request)
    expect((await account(customer.id)).reservedPoints).toBe('400')
    await until(order.id, OrderStatus.ORDER_STATUS_PAID)
    await mesh.order.client.cancelOrder({ requestId: randomUUID(), id: order.id, reason: 'wrong store' })
    await eventually(async () => expect(await account(customer.id)).toMatchObject({ balance: '1000', reservedPoints: '0' }))
  })

  it('a reward the customer cannot afford is FAILED_PRECONDITION and no order is stored', async () => {
    const { customer } = await regular(100)
    const request = placeRequest(customer.id, { rewardIds: [SEED.freeDrink] })
    const err = await failure(place(mesh.order.client, request))
    expect(err.code).toBe(status.FAILED_PRECONDITION)
    // Loyalty's own reason, passed on as the ErrorInfo reason: an app reads it, never the text.
    expect(errorReasonOf(err)).toBe('QUOTE_ISSUE_INSUFFICIENT_POINTS')
    const list = await mesh.order.client.listOrders({ pageSize: 5, pageToken: '', customerId: customer.id, householdId: '', statuses: [] })
    expect(list.orders).toEqual([])
  })

  it('a placement that fails after reserving a reward gives the points back at once, and its retry reserves afresh', async () => {
    // 500 points: the 1.00-off (400) is reserved first, then the free drink (1500) cannot be afforded.
    const { customer } = await regular(500)
    const request = placeRequest(customer.id, { rewardIds: [SEED.dollarOff, SEED.freeDrink] })
    const err = await failure(place(mesh.order.client, request))
    expect(err.code).toBe(status.FAILED_PRECONDITION)
    expect(await account(customer.id)).toMatchObject({ balance: '500', reservedPoints: '0' })
    const orderId = (await entries(customer.id, '')).find((e) => e.kind === LedgerEntryKind.LEDGER_ENTRY_KIND_RELEASE)?.orderId
    expect(kindsOf(await entries(customer.id, orderId ?? 'none'))).toEqual(
      [LedgerEntryKind.LEDGER_ENTRY_KIND_RESERVE, LedgerEntryKind.LEDGER_ENTRY_KIND_RELEASE].sort(),
    )

    // The same request id with only the affordable reward: placed, with a fresh reservation.
    const order = await place(mesh.order.client, { ...request, rewardIds: [SEED.dollarOff] })
    expect(order.id).toBe(orderId)
    expect(order.appliedRewards.map((r) => r.rewardId)).toEqual([SEED.dollarOff])
    expect(await account(customer.id)).toMatchObject({ balance: '100', reservedPoints: '400' })
  })

  it("Loyalty's hold job learns from the Order Service, with its own identity, whether an order was stored", async () => {
    // What releases a stranded reservation: the Order Service's NOT_FOUND, never the absence of events.
    const lookup = await loyaltyOrderLookup(mesh.order)
    try {
      const { customer } = await regular(500)
      const order = await place(mesh.order.client, placeRequest(customer.id, { rewardIds: [SEED.dollarOff] }))
      expect(await lookup.exists(order.id)).toBe(true)
      expect(await lookup.exists(randomUUID())).toBe(false)
    } finally {
      lookup.close()
    }
  })
})
