import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import type { OutboxMessage } from '@brewmesh/runtime/db'
import { eventEnvelope } from '@brewmesh/runtime/kafka'
import type { CustomerChange } from '../domain/customer.ts'
import { addressToProto, customerToProto } from '../proto/customer-mapper.ts'

const TYPE_NAMES: Record<CustomerChange['kind'], string> = {
  created: 'brewmesh.customer.v1.CustomerCreated',
  updated: 'brewmesh.customer.v1.CustomerUpdated',
  deleted: 'brewmesh.customer.v1.CustomerDeleted',
  activated: 'brewmesh.customer.v1.CustomerActivated',
  deactivated: 'brewmesh.customer.v1.CustomerDeactivated',
  address_added: 'brewmesh.customer.v1.AddressAdded',
  address_updated: 'brewmesh.customer.v1.AddressUpdated',
  address_removed: 'brewmesh.customer.v1.AddressRemoved',
}

function payloadOf(change: CustomerChange): CustomerEvent['payload'] {
  const customer = customerToProto(change.customer)
  switch (change.kind) {
    case 'created':
      return { $case: 'created', value: { customer } }
    case 'updated':
      return { $case: 'updated', value: { customer, changes: change.changes } }
    case 'deleted':
      return { $case: 'deleted', value: { customer } }
    case 'activated':
      return { $case: 'activated', value: { customer } }
    case 'deactivated':
      return { $case: 'deactivated', value: { customer, reason: change.reason } }
    case 'address_added':
      return { $case: 'addressAdded', value: { address: addressToProto(change.address) } }
    case 'address_updated':
      return { $case: 'addressUpdated', value: { address: addressToProto(change.address), changes: change.changes } }
    case 'address_removed':
      return { $case: 'addressRemoved', value: { address: addressToProto(change.address) } }
  }
}

/** A domain change as the protobuf event and Kafka headers the outbox relay will publish (key: the customer id). */
export function toOutboxMessage(topic: string, change: CustomerChange, now = new Date()): OutboxMessage {
  const { metadata, headers } = eventEnvelope('customer', TYPE_NAMES[change.kind], now)
  const event: CustomerEvent = {
    metadata,
    customerId: change.customer.id,
    householdId: change.customer.householdId ?? '',
    version: change.customer.version,
    payload: payloadOf(change),
  }
  return { topic, key: change.customer.id, payload: CustomerEvent.encode(event).finish(), headers: { ...headers } }
}
