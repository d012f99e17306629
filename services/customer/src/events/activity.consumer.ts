import type { Activity } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { decodeOrPoison, relevant, type BatchHandler } from '@brewmesh/runtime/kafka'
import { getCustomer } from '../domain/customers.ts'
import type { CustomerDeps } from '../domain/ports.ts'
import { loyaltyActivity, orderActivity } from './activities.ts'
import { publishActivity, type Feed } from './feed.ts'

// Every replica reads the order and loyalty topics (per replica, from the latest offset) to put
// their activity in ActivityFeed streams. Streams drop activity they already sent, so redelivery is
// harmless. While no stream is open, messages are neither decoded nor looked up: a stream follows
// what happens after it opened, and this replica reads every order's events.

/** Order events: each one a feed shows, to its customer's and household's streams. */
export function orderActivityHandler(feed: Feed): BatchHandler<Activity | undefined> {
  return {
    decode: (received) => (feed.empty ? undefined : orderActivity(decodeOrPoison(received, OrderEvent, 'brewmesh.order.v1.OrderEvent'))),
    handleBatch: async (items) => {
      for (const { value: activity } of relevant(items)) publishActivity(feed, { activity })
    },
  }
}

/**
 * Loyalty events name only the customer: the household comes from the customer's profile (through
 * the cache), looked up once per customer and chunk, so household subscribers see them too.
 */
export function loyaltyActivityHandler(feed: Feed, deps: CustomerDeps): BatchHandler<Activity | undefined> {
  const householdOf = async (customerId: string) => (await getCustomer(deps, customerId).catch(() => undefined))?.householdId ?? ''
  return {
    decode: (received) => {
      if (feed.empty) return undefined
      const event = decodeOrPoison(received, LoyaltyEvent, 'brewmesh.loyalty.v1.LoyaltyEvent')
      return event.customerId ? loyaltyActivity(event, '') : undefined
    },
    handleBatch: async (items) => {
      const activities = relevant(items).map((i) => i.value)
      const customers = [...new Set(activities.map((a) => a.customerId))]
      const households = new Map(await Promise.all(customers.map(async (id) => [id, await householdOf(id)] as const)))
      for (const activity of activities)
        publishActivity(feed, { activity: { ...activity, householdId: households.get(activity.customerId) ?? '' } })
    },
  }
}
