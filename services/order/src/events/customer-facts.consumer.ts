import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { isUuid } from '@brewmesh/runtime/ids'
import { decodeOrPoison, PoisonMessage, relevant, type BatchHandler } from '@brewmesh/runtime/kafka'
import type { CustomerFacts, HeardFact } from '../domain/ports.ts'

/** The durable group of the customer facts consumer, and the name its event ids are recorded under. */
export const CUSTOMER_FACTS_CONSUMER = 'order-customer-facts'

/**
 * The fact a customer event states: the customer after the change (a deletion: as deleted).
 * Address events carry no customer, and change nothing placing an order reads: undefined.
 * PoisonMessage for an event whose fact could never be kept.
 */
export function heardFactOf(event: CustomerEvent): HeardFact | undefined {
  const payload = event.payload
  if (!payload || !('customer' in payload.value)) return undefined
  const customer = payload.value.customer
  const eventId = event.metadata?.eventId
  if (!eventId || !customer || !isUuid(customer.id) || (customer.householdId !== '' && !isUuid(customer.householdId))) {
    throw new PoisonMessage('customer event without event id, or with a customer or household id that is not a UUID')
  }
  if (customer.displayName.includes('\u0000')) throw new PoisonMessage(`customer ${customer.id}: display name holds a NUL byte`)
  return {
    eventId,
    fact: {
      id: customer.id.toLowerCase(),
      displayName: customer.displayName,
      householdId: customer.householdId.toLowerCase(),
      active: customer.active,
      version: customer.version,
      deleted: payload.$case === 'deleted',
    },
  }
}

/**
 * The customer events (group order-customer-facts, durable), a chunk at a time: each customer's
 * last fact is kept in one transaction with the chunk's event ids; a chunk of address events only
 * touches nothing.
 */
export function customerFactsHandler(facts: CustomerFacts): BatchHandler<HeardFact | undefined> {
  return {
    decode: (received) => heardFactOf(decodeOrPoison(received, CustomerEvent, 'brewmesh.customer.v1.CustomerEvent')),
    handleBatch: async (items) => {
      const heard = relevant(items).map((i) => i.value)
      if (heard.length > 0) await facts.applyEvents(CUSTOMER_FACTS_CONSUMER, heard)
    },
  }
}
