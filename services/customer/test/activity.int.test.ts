import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Activity_Kind, type ActivityFeedRequest, type ActivityFeedResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { orderEvent, publish, testOrder } from '@brewmesh/testkit/contract-events.ts'
import { pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { cleanup, createCustomer, customerEnv, startCustomer, type Running } from './support.ts'

let svc: Running
const env = customerEnv()
const brokers = env['KAFKA_BROKERS']!
beforeAll(async () => {
  svc = await startCustomer(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

/** A LoyaltyEvent as the Loyalty service's outbox publishes it (key = customer id). */
function pointsEarned(customerId: string, points: number) {
  const eventId = randomUUID()
  const event = LoyaltyEvent.fromPartial({
    metadata: { eventId, eventType: 'brewmesh.loyalty.v1.PointsEarned', occurredAt: new Date(), source: 'loyalty' },
    customerId,
    payload: { $case: 'pointsEarned', value: { orderId: randomUUID(), points: String(points), balance: String(points) } },
  })
  return { key: customerId, value: Buffer.from(LoyaltyEvent.encode(event).finish()), headers: { 'event-id': eventId } }
}

describe('ActivityFeed with order and loyalty activity', () => {
  it('a household subscriber sees its members orders and points as they happen, once each', async () => {
    const household = randomUUID()
    const parent = await createCustomer(svc.client, { householdId: household })
    const child = await createCustomer(svc.client, { householdId: household })
    const feed = pushable<ActivityFeedRequest>()
    const done = new AbortController()
    const reader = new StreamReader<ActivityFeedResponse>(svc.client.activityFeed(feed, { signal: done.signal }))
    feed.push({ action: { $case: 'subscribe', value: { target: { $case: 'householdId', value: household } } } })
    expect((await reader.next()).message?.$case).toBe('ack')

    const order = testOrder({ customerId: parent.id, householdId: household })
    const placed = orderEvent(order, { $case: 'placed', value: { order } })
    await publish(brokers, TOPICS.orderEvents + env['KAFKA_TOPIC_SUFFIX'], [placed, placed]) // delivered twice
    const earned = pointsEarned(child.id, 45)
    await publish(brokers, TOPICS.loyaltyEvents + env['KAFKA_TOPIC_SUFFIX'], [earned])
    const stranger = testOrder({ customerId: randomUUID(), householdId: randomUUID() })
    await publish(brokers, TOPICS.orderEvents + env['KAFKA_TOPIC_SUFFIX'], [
      orderEvent(stranger, { $case: 'placed', value: { order: stranger } }),
    ])

    const first = await reader.next()
    const second = await reader.next()
    const activities = [first, second].map((m) => (m.message?.$case === 'activity' ? m.message.value : undefined))
    expect(activities.map((a) => [a?.kind, a?.customerId, a?.summary])).toEqual([
      [Activity_Kind.KIND_ORDER, parent.id, 'order placed: 1 drink, 4.50 USD'],
      [Activity_Kind.KIND_LOYALTY, child.id, 'earned 45 points (balance 45)'],
    ])
    await expect(reader.next(1500)).rejects.toThrow(/no message/) // no duplicate, nothing from another household
    done.abort()
  })
})
