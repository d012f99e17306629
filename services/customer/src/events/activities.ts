import { Activity_Kind, type Activity } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import type { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import type { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import type { Money } from '@brewmesh/gen/brewmesh/common/v1/money.ts'

// What customer, order and loyalty events look like in an activity feed: one line each.

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

const amount = (m: Money | undefined) => (m ? `${(Number(m.amountMinor) / 100).toFixed(2)} ${m.currencyCode}` : '')

/** A one-line description of an order event, or undefined for events a feed does not show. */
export function summarizeOrder(event: OrderEvent): string | undefined {
  const p = event.payload
  switch (p?.$case) {
    case 'placed': {
      const drinks = p.value.order?.lines.reduce((n, l) => n + l.quantity, 0) ?? 0
      return `order placed: ${drinks} drink${drinks === 1 ? '' : 's'}, ${amount(p.value.order?.total)}`
    }
    case 'paymentProcessed':
      return p.value.approved ? `payment approved: ${amount(p.value.amount)}` : `payment declined: ${p.value.declineReason}`
    case 'statusChanged':
      if (p.value.status === OrderStatus.ORDER_STATUS_READY) return 'order ready for pickup'
      return p.value.status === OrderStatus.ORDER_STATUS_PREPARING ? 'order being prepared' : undefined
    case 'completed':
      return 'order completed'
    case 'cancelled':
      return p.value.reason ? `order cancelled: ${p.value.reason}` : 'order cancelled'
    default:
      return undefined
  }
}

export function orderActivity(event: OrderEvent): Activity | undefined {
  const summary = summarizeOrder(event)
  if (!summary) return undefined
  return {
    activityId: event.metadata?.eventId ?? '',
    customerId: event.customerId.toLowerCase(),
    householdId: event.householdId.toLowerCase(),
    kind: Activity_Kind.KIND_ORDER,
    summary,
    occurredAt: event.metadata?.occurredAt,
    detail: undefined,
  }
}

/** A one-line description of a loyalty event, or undefined for events a feed does not show. */
export function summarizeLoyalty(event: LoyaltyEvent): string | undefined {
  const p = event.payload
  switch (p?.$case) {
    case 'pointsEarned':
      return `earned ${p.value.points} points (balance ${p.value.balance})`
    case 'pointsRedeemed':
      return `redeemed ${p.value.rewardName} for ${p.value.points} points`
    case 'pointsExpired':
      return `${p.value.points} points expired`
    case 'pointsAdjusted':
      return `points adjusted by ${p.value.points}: ${p.value.reason}`
    case 'rewardAvailable':
      return `reward available: ${p.value.name}`
    case 'tierChanged':
      return 'tier changed'
    default:
      return undefined
  }
}

export function loyaltyActivity(event: LoyaltyEvent, householdId: string): Activity | undefined {
  const summary = summarizeLoyalty(event)
  if (!summary) return undefined
  return {
    activityId: event.metadata?.eventId ?? '',
    customerId: event.customerId.toLowerCase(),
    householdId,
    kind: Activity_Kind.KIND_LOYALTY,
    summary,
    occurredAt: event.metadata?.occurredAt,
    detail: undefined,
  }
}
