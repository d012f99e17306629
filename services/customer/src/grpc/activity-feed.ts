import type {
  Activity,
  ActivityFeedRequest,
  ActivityFeedResponse,
  Subscription,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { invalid, Violations } from '@brewmesh/runtime/errors'
import { checkUuid } from '@brewmesh/runtime/ids'
import { AsyncQueue } from '@brewmesh/runtime/streams'
import { followActivity, type Feed, type FeedEvent, type FeedTarget } from '../events/feed.ts'

export const MAX_SUBSCRIPTIONS = 100
const MAX_PENDING = 1000

function targetOf(subscription: Subscription | undefined, field: string): { key: string; target: FeedTarget } {
  const t = subscription?.target
  const v = new Violations()
  if (!t) v.add(field, 'name a customer_id or a household_id')
  else checkUuid(v, t.value, `${field}.${t.$case === 'customerId' ? 'customer_id' : 'household_id'}`)
  v.throwIfAny()
  const { $case, value } = t!
  const id = value.toLowerCase()
  return $case === 'customerId' ? { key: `c:${id}`, target: { customerId: id } } : { key: `h:${id}`, target: { householdId: id } }
}

/**
 * Bidirectional: the caller adds and removes subscriptions on the same stream at any time; each
 * change is acknowledged, then activity that happens from then on flows. The stream stays open
 * after the caller half-closes (a feed has no natural end): it ends when the caller cancels or its
 * deadline passes. Each subscription is authorized as it comes (`authorizeSubscription`).
 */
export async function* activityFeed(
  feed: Feed,
  requests: AsyncIterable<ActivityFeedRequest>,
  authorizeSubscription: (target: FeedTarget) => Promise<void>,
  signal: AbortSignal,
): AsyncIterable<ActivityFeedResponse> {
  const out = new AsyncQueue<ActivityFeedResponse>(MAX_PENDING, signal)
  const subscriptions = new Map<string, () => void>()
  const seen = new Set<string>()
  let ended = false

  const onActivity = (activity: Activity) => {
    // A household member may match two subscriptions; send each activity once.
    if (seen.has(activity.activityId)) return
    seen.add(activity.activityId)
    if (seen.size > 10_000) seen.clear()
    out.push({ message: { $case: 'activity', value: activity } })
  }
  // Activity that happened after the subscription, not what was still in flight from before.
  const listenerSince =
    (since: number) =>
    ({ activity }: FeedEvent) => {
      if ((activity.occurredAt?.getTime() ?? 0) >= since) onActivity(activity)
    }

  const readRequests = async () => {
    for await (const request of requests) {
      const action = request.action
      if (!action) throw invalid([{ field: 'action', description: 'is required' }], 'send subscribe or unsubscribe')
      const field = action.$case
      const { key, target } = targetOf(action.value, field)
      if (action.$case === 'subscribe' && !subscriptions.has(key)) {
        await authorizeSubscription(target)
        if (ended) return // the stream went away while the subscription was being checked
        new Violations()
          .check(subscriptions.size < MAX_SUBSCRIPTIONS, field, `at most ${MAX_SUBSCRIPTIONS} subscriptions per stream`)
          .throwIfAny()
        subscriptions.set(key, followActivity(feed, target, listenerSince(Date.now())))
        await feed.live() // acknowledged once the feed delivers what happens from now on
      } else if (action.$case === 'unsubscribe') {
        subscriptions.get(key)?.()
        subscriptions.delete(key)
      }
      out.push({
        message: {
          $case: 'ack',
          value: { subscription: action.value, subscribed: action.$case === 'subscribe', activeSubscriptions: subscriptions.size },
        },
      })
    }
  }

  // Not awaited at the end: a stream that fails while the caller is idle must not wait for its next message.
  void readRequests().catch((err: unknown) => out.close(err instanceof Error ? err : new Error(String(err))))
  try {
    yield* out
  } finally {
    ended = true
    for (const unsubscribe of subscriptions.values()) unsubscribe()
    subscriptions.clear()
    out.close()
  }
}
