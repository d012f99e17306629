import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { decodeOrPoison, PoisonMessage, type BatchHandler } from '@brewmesh/runtime/kafka'
import type { CustomerCache } from '../domain/ports.ts'
import { toActivity } from './activities.ts'
import { publishActivity, type Feed } from './feed.ts'

/**
 * Every replica reads its own customer events (per replica) to drop its cached copy again and to
 * feed WatchCustomer and ActivityFeed streams, a chunk at a time. Both effects are idempotent, so
 * redelivery is harmless and nothing needs recording in PostgreSQL.
 */
export function customerFeedHandler(cache: CustomerCache, feed: Feed): BatchHandler<CustomerEvent> {
  return {
    decode: (received) => {
      const event = decodeOrPoison(received, CustomerEvent, 'brewmesh.customer.v1.CustomerEvent')
      if (!event.customerId) throw new PoisonMessage('customer event without customer_id')
      return event
    },
    handleBatch: async (items) => {
      // One delete per changed customer, before any stream hears of the chunk. A creation cannot
      // make a cached copy stale (any copy was read after it): it keeps the copy.
      const changed = new Set(items.filter((i) => i.value.payload?.$case !== 'created').map((i) => i.value.customerId))
      await Promise.all([...changed].map((id) => cache.delete(id)))
      for (const { value: event } of items) publishActivity(feed, { activity: toActivity(event), event })
    },
  }
}
