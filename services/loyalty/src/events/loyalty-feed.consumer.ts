import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { decodeOrPoison, type BatchHandler } from '@brewmesh/runtime/kafka'
import type { FanOut } from '@brewmesh/runtime/streams'

/**
 * Every replica reads the loyalty events (the per-replica "loyalty-feed" consumer, from the latest
 * offset) to feed its WatchAccount streams, a chunk at a time, keyed by customer. Nothing is
 * stored, so redelivery is harmless: watchers drop versions they have seen.
 */
export function loyaltyFeedHandler(accounts: FanOut<LoyaltyEvent>): BatchHandler<LoyaltyEvent> {
  return {
    decode: (received) => decodeOrPoison(received, LoyaltyEvent, 'brewmesh.loyalty.v1.LoyaltyEvent'),
    handleBatch: async (items) => {
      for (const { value: event } of items) if (event.customerId) accounts.publish(event.customerId, event)
    },
  }
}
