import type {
  Activity,
  ActivityFeedRequest,
  ActivityFeedResponse,
  Subscription,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { Activity_Kind } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { AsyncQueue } from '@brewmesh/runtime/async-queue.ts'
import { AppError, Violations } from '@brewmesh/runtime/errors.ts'
import type { CallContext, Send } from '@brewmesh/runtime/grpc/calls.ts'
import { isUuid } from '../domain/validation.ts'
import type { ActivityBus } from '../events/activity-bus.ts'

export const MAX_SUBSCRIPTIONS = 100
const MAX_PENDING = 1000

/** A one-line description of a customer event for feeds. */
export function summarize(event: CustomerEvent): string {
  const p = event.payload
  switch (p?.$case) {
    case 'created':
      return 'profile created'
    case 'updated':
      return `${p.value.changes.map((c) => c.field).join(', ')} changed`
    case 'deleted':
      return 'profile deleted'
    case 'activated':
      return 'profile activated'
    case 'deactivated':
      return p.value.reason ? `profile deactivated: ${p.value.reason}` : 'profile deactivated'
    case 'addressAdded':
      return `address added in ${p.value.address?.city ?? 'unknown city'}`
    case 'addressUpdated':
      return `address ${p.value.changes.map((c) => c.field).join(', ')} changed`
    case 'addressRemoved':
      return 'address removed'
    default:
      return 'profile changed'
  }
}

export function toActivity(event: CustomerEvent): Activity {
  return {
    activityId: event.metadata?.eventId ?? '',
    customerId: event.customerId,
    householdId: event.householdId,
    kind: Activity_Kind.KIND_PROFILE,
    summary: summarize(event),
    occurredAt: event.metadata?.occurredAt,
    detail: { $case: 'customerEvent', value: event },
  }
}

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
      ({ event }: { event: CustomerEvent }) => {
        if ((event.metadata?.occurredAt?.getTime() ?? 0) < since) return
        onEvent(event)
      }
    const onEvent = (event: CustomerEvent) => {
      // A household member may match two subscriptions; send each event once.
      const id = event.metadata?.eventId ?? ''
      if (seen.has(id)) return
      seen.add(id)
      if (seen.size > 10_000) seen.clear()
      out.push({ message: { $case: 'activity', value: toActivity(event) } })
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
