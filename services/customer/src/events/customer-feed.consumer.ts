import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import type { CustomerCache } from '../domain/ports.ts'
import type { ActivityBus } from './activity-bus.ts'
import { toActivity } from './activities.ts'

/**
 * Every replica reads its own customer events (a consumer group per instance) to drop its cached
 * copy again and to feed WatchCustomer and ActivityFeed streams. Both effects are idempotent, so
 * redelivery is harmless and nothing needs recording in PostgreSQL.
 */
export function customerFeedHandler(deps: { cache: CustomerCache; bus: ActivityBus }) {
  return async ({ partition, message }: ReceivedMessage): Promise<void> => {
    if (!message.value) throw new PoisonMessage('customer event without a value')
    let event: CustomerEvent
    try {
      event = CustomerEvent.decode(message.value)
    } catch (err) {
      throw new PoisonMessage('customer event is not a brewmesh.customer.v1.CustomerEvent', { cause: err })
    }
    if (!event.customerId) throw new PoisonMessage('customer event without customer_id')
    // A creation cannot make a cached copy stale (any copy was read after it): keep it.
    if (event.payload?.$case !== 'created') await deps.cache.delete(event.customerId)
    deps.bus.publish({ activity: toActivity(event), event, position: `${partition}:${message.offset}` })
  }
}
