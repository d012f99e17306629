import { Activity_Kind, type Activity } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { decodeOrPoison, PoisonMessage, type BatchHandler, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import type { ActivityBus } from './activity-bus.ts'
import { loyaltyActivity, orderActivity } from './activities.ts'

/**
 * Every replica reads the order and loyalty topics (a group per instance, from the latest offset)
 * to put their activity in ActivityFeed streams. Loyalty events name only the customer: the
 * household comes from the customer's profile (through the cache), looked up once per customer
 * and chunk, so household subscribers see it too. Streams drop activity they already sent, so
 * redelivery is harmless.
 */
export function activityHandler(
  topics: { orders: string; loyalty: string },
  bus: ActivityBus,
  householdOf: (customerId: string) => Promise<string>,
): BatchHandler<Activity | undefined> {
  // The activity a message shows, if any; a loyalty activity's household is filled in per chunk.
  const activityOf = (received: ReceivedMessage): Activity | undefined => {
    if (received.topic === topics.orders) return orderActivity(decodeOrPoison(received, OrderEvent, 'brewmesh.order.v1.OrderEvent'))
    if (received.topic !== topics.loyalty) return undefined
    const event = decodeOrPoison(received, LoyaltyEvent, 'brewmesh.loyalty.v1.LoyaltyEvent')
    return event.customerId ? loyaltyActivity(event, '') : undefined
  }
  return {
    decode: (received) => {
      try {
        return activityOf(received)
      } catch (err) {
        if (err instanceof RangeError || err instanceof TypeError) {
          throw new PoisonMessage(`not a brewmesh event on ${received.topic}`, { cause: err })
        }
        throw err
      }
    },
    handleBatch: async (items) => {
      const needHousehold = new Set(items.flatMap((i) => (i.value?.kind === Activity_Kind.KIND_LOYALTY ? [i.value.customerId] : [])))
      const households = new Map(await Promise.all([...needHousehold].map(async (id) => [id, await householdOf(id)] as const)))
      for (const { value: activity, received } of items) {
        if (!activity) continue
        const householdId =
          activity.kind === Activity_Kind.KIND_LOYALTY ? (households.get(activity.customerId) ?? '') : activity.householdId
        bus.publish({ activity: { ...activity, householdId }, position: `${received.partition}:${received.message.offset}` })
      }
    },
  }
}
