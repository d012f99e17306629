import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { decodeOrPoison, type BatchHandler } from '@brewmesh/runtime/kafka/consumer.ts'
import type { AccountBus } from './account-bus.ts'

/**
 * Every replica reads the loyalty events (a consumer group per instance, from the latest offset)
 * to feed its WatchAccount streams, a chunk at a time. Nothing is stored, so redelivery is
 * harmless: watchers drop versions they have seen.
 */
export function loyaltyFeedHandler(bus: AccountBus): BatchHandler<LoyaltyEvent> {
  return {
    decode: (received) => decodeOrPoison(received, LoyaltyEvent, 'brewmesh.loyalty.v1.LoyaltyEvent'),
    handleBatch: async (items) => {
      for (const { value: event } of items) if (event.customerId) bus.publish(event)
    },
  }
}
