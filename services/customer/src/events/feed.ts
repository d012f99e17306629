import type { Activity } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import type { FanOut } from '@brewmesh/runtime/streams'

/**
 * What this replica consumed from Kafka (customer, order and loyalty events), handed to its open
 * WatchCustomer and ActivityFeed streams. Every replica consumes the whole topics (a group of its
 * own), so a stream sees changes made through any replica.
 */
export interface FeedEvent {
  activity: Activity
  /** Set for profile activity (WatchCustomer follows these). */
  event?: CustomerEvent
}

export type Feed = FanOut<FeedEvent>

/** What a stream follows: one customer, or every member of one household. */
export type FeedTarget = { customerId: string } | { householdId: string }

const keyOf = (target: FeedTarget) => ('customerId' in target ? `customer:${target.customerId}` : `household:${target.householdId}`)

/** Hands an activity to the streams following its customer or its household, once to each listener. */
export function publishActivity(feed: Feed, e: FeedEvent): void {
  const { customerId, householdId } = e.activity
  feed.publish(householdId ? [keyOf({ customerId }), keyOf({ householdId })] : keyOf({ customerId }), e)
}

/** Listens to one customer's or one household's activity; returns the unsubscribe function. */
export const followActivity = (feed: Feed, target: FeedTarget, listener: (e: FeedEvent) => void): (() => void) =>
  feed.subscribe(keyOf(target), listener)
