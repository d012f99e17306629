import type { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import {
  WatchCustomerResponse_ChangeKind as Kind,
  type WatchCustomerResponse,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { AsyncQueue } from '@brewmesh/runtime/streams'
import { getCustomer } from '../domain/customers.ts'
import type { CustomerDeps } from '../domain/ports.ts'
import { followActivity, type Feed } from '../events/feed.ts'
import { customerToProto } from '../proto/customer-mapper.ts'

/** Events a slow watcher may fall behind by before its stream is ended. */
const MAX_PENDING = 1000

/** What a customer event means to a watcher, or undefined when it carries nothing for them. */
export function watchUpdate(event: CustomerEvent): WatchCustomerResponse | undefined {
  const changedAt = event.metadata?.occurredAt
  const p = event.payload
  switch (p?.$case) {
    case 'updated':
      return { kind: Kind.CHANGE_KIND_UPDATED, customer: p.value.customer, changes: p.value.changes, changedAt }
    case 'activated':
      return { kind: Kind.CHANGE_KIND_ACTIVATED, customer: p.value.customer, changes: [], changedAt }
    case 'deactivated':
      return { kind: Kind.CHANGE_KIND_DEACTIVATED, customer: p.value.customer, changes: [], changedAt }
    case 'deleted':
      return { kind: Kind.CHANGE_KIND_DELETED, customer: p.value.customer, changes: [], changedAt }
    case 'addressAdded':
    case 'addressRemoved':
      return { kind: Kind.CHANGE_KIND_ADDRESS_CHANGED, customer: undefined, changes: [], changedAt }
    case 'addressUpdated':
      return { kind: Kind.CHANGE_KIND_ADDRESS_CHANGED, customer: undefined, changes: p.value.changes, changedAt }
    default:
      return undefined
  }
}

/**
 * Server streaming: subscribes before reading the snapshot, so no change falls between the two;
 * events at or below the snapshot's version are dropped, later ones are sent in order. Ends after
 * the deletion.
 */
export async function* watchCustomer(
  deps: CustomerDeps,
  feed: Feed,
  customerId: string,
  signal: AbortSignal,
): AsyncIterable<WatchCustomerResponse> {
  const queue = new AsyncQueue<CustomerEvent>(MAX_PENDING, signal)
  const unsubscribe = followActivity(feed, { customerId }, ({ event }) => void (event && queue.push(event)))
  try {
    const snapshot = await getCustomer(deps, customerId)
    let last = customerToProto(snapshot)
    yield { kind: Kind.CHANGE_KIND_SNAPSHOT, customer: last, changes: [], changedAt: snapshot.updatedAt }
    for await (const event of queue) {
      if (event.version <= last.version) continue
      const update = watchUpdate(event)
      if (!update) continue
      // Address events carry the address, not the customer: the customer is unchanged but its version.
      update.customer ??= { ...last, version: event.version, updatedAt: update.changedAt }
      last = update.customer
      yield update
      if (update.kind === Kind.CHANGE_KIND_DELETED) return
    }
  } finally {
    unsubscribe()
  }
}
