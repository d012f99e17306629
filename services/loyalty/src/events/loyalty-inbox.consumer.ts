import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { CancelReasonCode } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import {
  decodeOrPoison,
  headerString,
  mayBeOf,
  PoisonMessage,
  relevant,
  type BatchHandler,
  type ReceivedMessage,
} from '@brewmesh/runtime/kafka'
import { isUuid } from '@brewmesh/runtime/ids'
import { applyCustomerFacts, type CustomerFact } from '../domain/accounts.ts'
import { applyOrderFacts, type OrderFact } from '../domain/order-events.ts'
import type { LoyaltyDeps } from '../domain/ports.ts'

/** The order event as a fact loyalty acts on; undefined for payloads loyalty ignores. */
export function orderFact(event: OrderEvent): OrderFact | undefined {
  const eventId = event.metadata?.eventId ?? ''
  if (!eventId) throw new PoisonMessage('order event without metadata.event_id')
  if (!event.orderId) throw new PoisonMessage('order event without order_id')
  if (!isUuid(event.customerId)) throw new PoisonMessage('order event without a customer_id UUID')
  const ids = { eventId, orderId: event.orderId.toLowerCase(), customerId: event.customerId.toLowerCase() }
  const p = event.payload
  switch (p?.$case) {
    case 'completed': {
      const total = p.value.order?.total
      if (!total) throw new PoisonMessage('order completed without order.total')
      // Money is exact within +/- 2^53 - 1 minor units; no real order is larger.
      const amountMinor = Number(total.amountMinor)
      if (!Number.isSafeInteger(amountMinor)) throw new PoisonMessage('order completed with an order.total out of range')
      return { kind: 'completed', ...ids, total: { amountMinor, currency: total.currencyCode } }
    }
    case 'cancelled':
      return {
        kind: 'cancelled',
        ...ids,
        reason: p.value.reasonCode === CancelReasonCode.CANCEL_REASON_CODE_PAYMENT_DECLINED ? 'payment declined' : 'order cancelled',
      }
    case 'placed':
      return { kind: 'placed', ...ids }
    case 'paymentProcessed':
      return p.value.approved ? undefined : { kind: 'cancelled', ...ids, reason: 'payment declined' }
    default:
      return undefined
  }
}

/** The customer event as a fact loyalty acts on; undefined for payloads loyalty ignores. */
export function customerFact(event: CustomerEvent): CustomerFact | undefined {
  const eventId = event.metadata?.eventId ?? ''
  if (!eventId) throw new PoisonMessage('customer event without metadata.event_id')
  const kind = event.payload?.$case
  if (kind !== 'created' && kind !== 'deleted') return undefined
  if (!isUuid(event.customerId)) throw new PoisonMessage('customer event without a customer_id UUID')
  return { kind, eventId, customerId: event.customerId.toLowerCase() }
}

/** The order events loyalty acts on (orderFact); the others are skipped by their header, unread. */
const ORDER_EVENTS_READ = new Set([
  'brewmesh.order.v1.OrderPlaced',
  'brewmesh.order.v1.OrderCompleted',
  'brewmesh.order.v1.OrderCancelled',
  'brewmesh.order.v1.PaymentProcessed',
])

/** An approved payment changes nothing here (a declined one cancels): its `event-outcome` header says which. */
const approvedPayment = (received: ReceivedMessage) => headerString(received.message.headers, 'event-outcome') === 'approved'

/** A received order event as a fact loyalty acts on; undefined for the events it ignores, most unread. */
export const orderFactOf = (received: ReceivedMessage): OrderFact | undefined =>
  mayBeOf(received, ORDER_EVENTS_READ) && !approvedPayment(received)
    ? orderFact(decodeOrPoison(received, OrderEvent, 'brewmesh.order.v1.OrderEvent'))
    : undefined

/**
 * The order events of the durable `loyalty` group, a chunk at a time: the chunk's facts and their
 * event ids commit in one transaction (domain/order-events.ts), so redelivery changes nothing; a
 * message that can never be applied throws PoisonMessage and goes to `<topic>.dlq`.
 */
export function orderEventsHandler(deps: LoyaltyDeps): BatchHandler<OrderFact | undefined> {
  return {
    decode: orderFactOf,
    handleBatch: (items) => applyOrderFacts(deps, relevant(items)),
  }
}

/** The customer events of the durable `loyalty` group, a chunk at a time, like the order events. */
export function customerEventsHandler(deps: LoyaltyDeps): BatchHandler<CustomerFact | undefined> {
  return {
    decode: (received) => customerFact(decodeOrPoison(received, CustomerEvent, 'brewmesh.customer.v1.CustomerEvent')),
    handleBatch: (items) => applyCustomerFacts(deps, relevant(items)),
  }
}
