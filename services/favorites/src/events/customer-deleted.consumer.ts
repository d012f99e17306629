import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { decodeOrPoison, PoisonMessage, relevant, type BatchHandler } from '@brewmesh/runtime/kafka'
import type { Logger } from '@brewmesh/runtime/logger'
import { forgetDeletedCustomers, type CustomerDeleted } from '../domain/learning.ts'
import type { FavoritesDeps } from '../domain/ports.ts'
import { isUuid } from '@brewmesh/runtime/ids'

/** Reads a CustomerDeleted into what forgetting needs; other customer events are not for this service. */
export function customerDeletedOf(event: CustomerEvent): CustomerDeleted | undefined {
  if (event.payload?.$case !== 'deleted') return undefined
  const eventId = event.metadata?.eventId
  if (!eventId || !isUuid(event.customerId)) throw new PoisonMessage('CustomerDeleted without event id or customer id')
  return { eventId, customerId: event.customerId }
}

/**
 * The customer events consumer (group "favorites"), a chunk at a time: deleted customers'
 * favorites are removed in one transaction; a chunk without a deletion touches nothing.
 */
export function customerEventsHandler(deps: FavoritesDeps, log: Logger): BatchHandler<CustomerDeleted | undefined> {
  return {
    decode: (received) => customerDeletedOf(decodeOrPoison(received, CustomerEvent, 'brewmesh.customer.v1.CustomerEvent')),
    handleBatch: async (items) => {
      const deletions = relevant(items)
      if (deletions.length === 0) return
      const applied = await forgetDeletedCustomers(deps, deletions)
      log.info({ customerIds: deletions.map((d) => d.value.customerId), applied }, 'deleted customers forgotten')
    },
  }
}
