import type {
  Activity,
  ActivityFeedRequest,
  ActivityFeedResponse,
  Subscription,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { AsyncQueue } from '@brewmesh/runtime/streams/async-queue.ts'
import { AppError, Violations } from '@brewmesh/runtime/errors.ts'
import type { CallContext, Send } from '@brewmesh/runtime/grpc/calls.ts'
import { isUuid } from '../domain/validation.ts'
import type { ActivityBus, FeedEvent } from '../events/activity-bus.ts'

export const MAX_SUBSCRIPTIONS = 100
const MAX_PENDING = 1000

function targetOf(
  subscription: Subscription | undefined,
  field: string,
): { key: string; target: { customerId: string } | { householdId: string } } {
  const t = subscription?.target
  const v = new Violations()
  if (!t) v.add(field, 'name a customer_id or a household_id')
  else v.check(isUuid(t.value), `${field}.${t.$case === 'customerId' ? 'customer_id' : 'household_id'}`, 'must be a UUID')
  v.throwIfAny()
  const { $case, value } = t!
  const id = value.toLowerCase()
  return $case === 'customerId' ? { key: `c:${id}`, target: { customerId: id } } : { key: `h:${id}`, target: { householdId: id } }
}

/**
 * Bidirectional: the caller adds and removes subscriptions on the same stream at any time; each
 * change is acknowledged, then activity that happens from then on flows. The stream stays open after the caller
 * half-closes (a feed has no natural end): it ends when the caller cancels or its deadline passes.
 */
export function activityFeed(
  bus: ActivityBus,
  authorizeSubscription: (target: { customerId: string } | { householdId: string }) => Promise<void>,
) {
  return async (requests: AsyncIterable<ActivityFeedRequest>, send: Send<ActivityFeedResponse>, ctx: CallContext): Promise<void> => {
    const out = new AsyncQueue<ActivityFeedResponse>(MAX_PENDING, ctx.signal)
    const subscriptions = new Map<string, () => void>()
    const seen = new Set<string>()

    // Activity that happened after the subscription, not what was still in flight from before.
    const listenerSince =
      (since: number) =>
      ({ activity }: FeedEvent) => {
        if ((activity.occurredAt?.getTime() ?? 0) < since) return
        onActivity(activity)
      }
    const onActivity = (activity: Activity) => {
      // A household member may match two subscriptions; send each activity once.
      if (seen.has(activity.activityId)) return
      seen.add(activity.activityId)
      if (seen.size > 10_000) seen.clear()
      out.push({ message: { $case: 'activity', value: activity } })
    }

    const readRequests = async () => {
      for await (const request of requests) {
        const action = request.action
        if (!action) throw new AppError('invalid', 'send subscribe or unsubscribe', [{ field: 'action', description: 'is required' }])
        const field = action.$case
        const { key, target } = targetOf(action.value, field)
        if (action.$case === 'subscribe' && !subscriptions.has(key)) {
          await authorizeSubscription(target)
          new Violations()
            .check(subscriptions.size < MAX_SUBSCRIPTIONS, field, `at most ${MAX_SUBSCRIPTIONS} subscriptions per stream`)
            .throwIfAny()
          subscriptions.set(key, bus.subscribe(target, listenerSince(Date.now())))
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

    const reading = readRequests().catch((err: unknown) => out.close(err instanceof Error ? err : new Error(String(err))))
    try {
      for await (const message of out) {
        if (!(await send(message))) break
      }
    } finally {
      for (const unsubscribe of subscriptions.values()) unsubscribe()
      subscriptions.clear()
      out.close()
      await reading
    }
  }
}
