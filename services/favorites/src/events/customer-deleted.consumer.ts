import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import type { Logger } from '@brewmesh/runtime/logger.ts'
import { forgetDeletedCustomer } from '../domain/learning.ts'
import type { FavoritesDeps } from '../domain/ports.ts'

/** The customer events consumer (group "favorites"): a deleted customer's favorites are removed. */
export function customerEventsHandler(deps: FavoritesDeps, log: Logger) {
  return async ({ message }: ReceivedMessage): Promise<void> => {
    if (!message.value) throw new PoisonMessage('customer event without a value')
    let event: CustomerEvent
    try {
      event = CustomerEvent.decode(message.value)
    } catch (err) {
      throw new PoisonMessage('not a brewmesh.customer.v1.CustomerEvent', { cause: err })
    }
    if (event.payload?.$case !== 'deleted') return
    const eventId = event.metadata?.eventId
    if (!eventId || !event.customerId) throw new PoisonMessage('CustomerDeleted without event id or customer id')
    const applied = await forgetDeletedCustomer(deps, eventId, event.customerId)
    log.info({ customerId: event.customerId, eventId, applied }, applied ? 'deleted customer forgotten' : 'customer deletion seen before')
  }
}
