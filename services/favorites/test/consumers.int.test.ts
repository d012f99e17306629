import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FavoritesEvent, UsualChanged_Cause } from '@brewmesh/gen/brewmesh/favorites/v1/events.ts'
import { UsualSource } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import { DrinkSize, MilkType, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import {
  customerEvent,
  orderCompleted,
  orderCancelled,
  publish,
  testOrder,
  TEST_LATTE_ID,
  type ContractMessage,
} from '@brewmesh/testkit/contract-events.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { topicRecorder } from '@brewmesh/testkit/kafka.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { addFavorite, cleanup, favoritesEnv, MENU, startFavorites, type Running } from './support.ts'

let svc: Running
const env = favoritesEnv()
const brokers = env['KAFKA_BROKERS']!
const suffix = env['KAFKA_TOPIC_SUFFIX']!
const orderTopic = TOPICS.orderEvents + suffix
const customerTopic = TOPICS.customerEvents + suffix
let favoritesTopic: Awaited<ReturnType<typeof topicRecorder>>

beforeAll(async () => {
  svc = await startFavorites(env)
  favoritesTopic = await topicRecorder(brokers, TOPICS.favoritesEvents + suffix)
})
afterAll(async () => {
  await favoritesTopic?.stop()
  await svc?.stop()
  await cleanup(env)
})

const usualOf = (customerId: string) => svc.client.getUsual({ customerId })
const MOCHA: DrinkCustomization = {
  size: DrinkSize.DRINK_SIZE_LARGE,
  milk: MilkType.MILK_TYPE_WHOLE,
  extraShots: 0,
  syrups: [],
  temperature: 0,
  sweetness: 0,
}
const mochaLine = (customerId: string) => ({
  id: randomUUID(),
  menuItemId: MENU.mocha,
  menuItemName: 'Mocha',
  customization: MOCHA,
  quantity: 3,
  memberCustomerId: customerId,
})
const learnedCount = async (customerId: string) => {
  const r = await usualOf(customerId)
  return r.usual?.drink?.$case === 'learned' ? Number(r.usual.drink.value.completedCount) : 0
}

describe('order completed', () => {
  it('counts each order once however often it is delivered, and the most completed drink becomes the usual', async () => {
    const customerId = randomUUID()
    const first = testOrder({ customerId })
    const completed = orderCompleted(first)
    await publish(brokers, orderTopic, [completed, completed]) // delivered twice
    await publish(brokers, orderTopic, [orderCompleted(testOrder({ customerId }))])
    await eventually(async () => expect(await learnedCount(customerId)).toBe(2))

    const { usual } = await usualOf(customerId)
    expect(usual).toMatchObject({ source: UsualSource.USUAL_SOURCE_LEARNED, completedCount: '2', window: { days: 30 } })
    expect(usual?.drink).toMatchObject({ $case: 'learned', value: { menuItemId: TEST_LATTE_ID, displayName: 'Caffè Latte' } })
    // The same event redelivered later changes nothing either.
    await publish(brokers, orderTopic, [completed])
    const rows = await eventually(async () => {
      const r = await sqlQuery<{ n: number }>(
        env,
        `select count(*)::int as n from processed_events where consumer = 'favorites-order-events'`,
      )
      return r
    })
    expect(rows[0]!.n).toBeGreaterThanOrEqual(2)
    expect(await learnedCount(customerId)).toBe(2)
  })

  it('counts a group order line for the member it was for, once per order whatever the quantity', async () => {
    const payer = randomUUID()
    const member = randomUUID()
    const order = testOrder({ customerId: payer, lines: [mochaLine(member)] })
    await publish(brokers, orderTopic, [orderCompleted(order)])
    await eventually(async () => expect(await learnedCount(member)).toBe(1))
    expect((await failure(usualOf(payer))).code).toBe(status.NOT_FOUND)
  })

  it('ignores cancelled orders, and publishes UsualChanged when a different drink becomes the most completed', async () => {
    const customerId = randomUUID()
    await publish(brokers, orderTopic, [orderCompleted(testOrder({ customerId }))])
    await eventually(async () => expect(await learnedCount(customerId)).toBe(1))
    const cancelled = testOrder({ customerId, lines: [mochaLine(customerId)] })
    await publish(brokers, orderTopic, [orderCancelled(cancelled)])
    for (let i = 0; i < 2; i++)
      await publish(brokers, orderTopic, [orderCompleted(testOrder({ customerId, lines: [mochaLine(customerId)] }))])
    await eventually(async () => {
      const { usual } = await usualOf(customerId)
      expect(usual?.drink).toMatchObject({ $case: 'learned', value: { menuItemId: MENU.mocha, completedCount: '2' } })
    })
    const causes = await eventually(() => {
      const events = favoritesTopic.messages.map((m) => FavoritesEvent.decode(m.value!)).filter((e) => e.customerId === customerId)
      expect(events).toHaveLength(2)
      return events.map((e) => (e.payload?.$case === 'usualChanged' ? e.payload.value.cause : undefined))
    })
    expect(causes).toEqual([UsualChanged_Cause.CAUSE_LEARNED, UsualChanged_Cause.CAUSE_LEARNED])
  })

  it('a pinned favorite stays the usual, with the completed count of its drink', async () => {
    const customerId = randomUUID()
    const pinned = await addFavorite(svc.client, customerId, {
      menuItemId: MENU.mocha,
      pinned: true,
      customization: MOCHA,
    })
    await publish(brokers, orderTopic, [
      orderCompleted(testOrder({ customerId, lines: [mochaLine(customerId)] })),
      orderCompleted(testOrder({ customerId })),
    ])
    await eventually(async () => {
      const { usual } = await usualOf(customerId)
      expect(usual).toMatchObject({
        source: UsualSource.USUAL_SOURCE_PINNED,
        completedCount: '1',
        drink: { $case: 'favorite', value: { favoriteId: pinned.favoriteId } },
      })
    })
  })

  it('dead-letters a malformed message with the reason and keeps consuming', async () => {
    const customerId = randomUUID()
    await publish(brokers, orderTopic, [{ key: 'bad', value: Buffer.from('not protobuf at all \xff\xff'), headers: {} }])
    await publish(brokers, orderTopic, [orderCompleted(testOrder({ customerId }))])
    await eventually(async () => expect(await learnedCount(customerId)).toBe(1))
    // The dead-letter topic exists once the first message was dead-lettered.
    const deadLetters = await eventually(() => topicRecorder(brokers, `${orderTopic}.dlq`))
    const dead = await eventually(() => {
      const m = deadLetters.messages.find((x) => x.key?.toString() === 'bad')
      if (!m) throw new Error('not dead-lettered yet')
      return m
    })
    expect(dead.headers?.['dlq-error']?.toString()).toContain('OrderEvent')
    expect(dead.headers?.['dlq-consumer-group']?.toString()).toBe(`favorites${suffix}`)
    await deadLetters.stop()
  })
})

describe('a chunk of order events in one transaction', () => {
  // One key: the messages share a partition, so the consumer takes them as one chunk, in order.
  const together = (messages: ContractMessage[]) => messages.map((m) => ({ ...m, key: `chunk-${suffix}` }))

  it('counts each completed order once, whether repeated in the chunk or redelivered later, and skips the other events', async () => {
    const [ada, bob] = [randomUUID(), randomUUID()]
    const adaOrder = testOrder({ customerId: ada })
    const adaCompleted = orderCompleted(adaOrder)
    const bobCompleted = orderCompleted(testOrder({ customerId: bob, lines: [mochaLine(bob)] }))
    await publish(
      brokers,
      orderTopic,
      together([orderCancelled(testOrder({ customerId: ada })), adaCompleted, bobCompleted, adaCompleted, bobCompleted]),
    )
    await eventually(async () => expect([await learnedCount(ada), await learnedCount(bob)]).toEqual([1, 1]))
    const again = orderCompleted(testOrder({ customerId: ada }))
    await publish(brokers, orderTopic, together([bobCompleted, adaCompleted, again]))
    await eventually(async () => expect(await learnedCount(ada)).toBe(2)) // the redelivered ones came before it, in order
    expect(await learnedCount(bob)).toBe(1)
  })

  it('dead-letters an unreadable message in the middle of the chunk alone; the orders around it count once', async () => {
    const deadLetters = await topicRecorder(brokers, `${orderTopic}.dlq`)
    try {
      const customerId = randomUUID()
      const junk = { key: '', value: Buffer.from('not protobuf at all \xff\xff'), headers: { 'event-id': `junk-${suffix}` } }
      await publish(
        brokers,
        orderTopic,
        together([orderCompleted(testOrder({ customerId })), junk, orderCompleted(testOrder({ customerId }))]),
      )
      await eventually(async () => expect(await learnedCount(customerId)).toBe(2))
      const dead = await eventually(() => {
        const found = deadLetters.messages.filter((m) => m.key?.toString() === `chunk-${suffix}`)
        expect(found).toHaveLength(1)
        return found[0]!
      })
      expect(dead.headers?.['event-id']?.toString()).toBe(`junk-${suffix}`)
    } finally {
      await deadLetters.stop()
    }
  })
})

describe('customer deleted', () => {
  it('removes the customer favorites once, publishes the removals, and refuses new ones', async () => {
    const customerId = randomUUID()
    const a = await addFavorite(svc.client, customerId, { pinned: true })
    await addFavorite(svc.client, customerId, { menuItemId: MENU.mocha })
    const deleted = customerEvent('deleted', { id: customerId })
    await publish(brokers, customerTopic, [deleted, deleted])
    await eventually(async () => {
      const page = await svc.client.listFavorites({ customerId, pageSize: 0, pageToken: '' })
      expect(page).toMatchObject({ favorites: [], revision: '3' })
    })
    const removals = await eventually(() => {
      const events = favoritesTopic.messages
        .map((m) => FavoritesEvent.decode(m.value!))
        .filter((e) => e.customerId === customerId && e.revision === '3')
      expect(events).toHaveLength(3)
      return events
    })
    expect(removals.map((e) => e.payload?.$case)).toEqual(['favoriteRemoved', 'favoriteRemoved', 'usualChanged'])
    expect(removals[0]?.payload).toMatchObject({ value: { reason: 'customer deleted' } })
    expect(removals[2]?.payload).toMatchObject({
      value: { cause: UsualChanged_Cause.CAUSE_PINNED_REMOVED, previous: { drink: { value: { favoriteId: a.favoriteId } } } },
    })
    expect((await failure(addFavorite(svc.client, customerId, { menuItemId: MENU.chai }))).code).toBe(status.FAILED_PRECONDITION)
  })
})
