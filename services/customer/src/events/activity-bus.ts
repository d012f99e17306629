import type { Activity } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'

/** Activity as it reached this replica from Kafka: profile changes carry their customer event. */
export interface FeedEvent {
  activity: Activity
  /** Set for profile activity (WatchCustomer follows these). */
  event?: CustomerEvent
  /** Kafka offset position, for logs. */
  position: string
}

export type FeedListener = (e: FeedEvent) => void

/**
 * In-process fan-out of the activity this replica consumed (customer, order and loyalty events) to
 * the open WatchCustomer and ActivityFeed streams. Every replica consumes the whole topics (its
 * own consumer groups), so a stream sees changes made through any replica.
 */
export class ActivityBus {
  private readonly byCustomer = new Map<string, Set<FeedListener>>()
  private readonly byHousehold = new Map<string, Set<FeedListener>>()

  publish(e: FeedEvent): void {
    const seen = new Set<FeedListener>()
    const deliver = (listeners: Set<FeedListener> | undefined) => {
      for (const listener of listeners ?? []) {
        if (seen.has(listener)) continue
        seen.add(listener)
        listener(e)
      }
    }
    deliver(this.byCustomer.get(e.activity.customerId))
    if (e.activity.householdId) deliver(this.byHousehold.get(e.activity.householdId))
  }

  /** Listens to one customer or one household; returns the unsubscribe function. */
  subscribe(target: { customerId: string } | { householdId: string }, listener: FeedListener): () => void {
    const [map, id] = 'customerId' in target ? [this.byCustomer, target.customerId] : [this.byHousehold, target.householdId]
    let set = map.get(id)
    if (!set) map.set(id, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      // Only remove the entry this subscription created: a later subscriber may own a new set.
      if (set.size === 0 && map.get(id) === set) map.delete(id)
    }
  }

  get listenerCount(): number {
    let n = 0
    for (const set of this.byCustomer.values()) n += set.size
    for (const set of this.byHousehold.values()) n += set.size
    return n
  }
}
