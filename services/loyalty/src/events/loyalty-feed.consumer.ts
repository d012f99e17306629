import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import type { AccountBus } from './account-bus.ts'

/**
 * Every replica reads the loyalty events (a consumer group per instance, from the latest offset)
 * to feed its WatchAccount streams. Nothing is stored, so redelivery is harmless: watchers drop
 * versions they have seen.
 */
export function loyaltyFeedHandler(bus: AccountBus) {
  return async ({ message }: ReceivedMessage): Promise<void> => {
    if (!message.value) throw new PoisonMessage('loyalty event without a value')
    let event: LoyaltyEvent
    try {
      event = LoyaltyEvent.decode(message.value)
    } catch (err) {
      throw new PoisonMessage('loyalty event is not a brewmesh.loyalty.v1.LoyaltyEvent', { cause: err })
    }
    if (event.customerId) bus.publish(event)
  }
}
