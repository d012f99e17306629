import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import type { ActivityBus } from './activity-bus.ts'
import { loyaltyActivity, orderActivity } from './activities.ts'

/**
 * Every replica reads the order and loyalty topics (a group per instance, from the latest offset)
 * to put their activity in ActivityFeed streams. Loyalty events name only the customer: the
 * household comes from the customer's profile (through the cache), so household subscribers see
 * it too. Streams drop activity they already sent, so redelivery is harmless.
 */
export function activityHandler(
  topics: { orders: string; loyalty: string },
  bus: ActivityBus,
  householdOf: (customerId: string) => Promise<string>,
) {
  return async ({ topic, partition, message }: ReceivedMessage): Promise<void> => {
    if (!message.value) throw new PoisonMessage('event without a value')
    const position = `${partition}:${message.offset}`
    try {
      if (topic === topics.orders) {
        const activity = orderActivity(OrderEvent.decode(message.value))
        if (activity) bus.publish({ activity, position })
      } else if (topic === topics.loyalty) {
        const event = LoyaltyEvent.decode(message.value)
        const activity = event.customerId ? loyaltyActivity(event, await householdOf(event.customerId.toLowerCase())) : undefined
        if (activity) bus.publish({ activity, position })
      }
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) throw new PoisonMessage(`not a brewmesh event on ${topic}`, { cause: err })
      throw err
    }
  }
}
