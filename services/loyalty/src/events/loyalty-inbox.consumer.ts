import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { CancelReasonCode } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import { applyCustomerFact } from '../domain/accounts.ts'
import { applyOrderFact, type OrderFact } from '../domain/order-events.ts'
import type { LoyaltyDeps } from '../domain/ports.ts'
import { isUuid } from '../domain/validation.ts'

function decode<T>(what: string, value: Buffer | null, decoder: (bytes: Uint8Array) => T): T {
  if (!value) throw new PoisonMessage(`${what} without a value`)
  try {
    return decoder(value)
  } catch (err) {
    throw new PoisonMessage(`${what} is not a valid protobuf message`, { cause: err })
  }
}

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
      return { kind: 'completed', ...ids, total: { amountMinor: Number(total.amountMinor), currency: total.currencyCode } }
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

/**
 * The durable `loyalty` group's handler for the order and customer topics. Each effect and its
 * event id commit in one transaction (domain/), so redelivery changes nothing; a message that can
 * never be applied throws PoisonMessage and goes to `<topic>.dlq`.
 */
export function loyaltyInboxHandler(deps: LoyaltyDeps, topics: { orders: string; customers: string }) {
  return async ({ topic, message }: ReceivedMessage): Promise<void> => {
    if (topic === topics.orders) {
      const fact = orderFact(decode('order event', message.value, (b) => OrderEvent.decode(b)))
      if (fact) await applyOrderFact(deps, fact)
      return
    }
    if (topic === topics.customers) {
      const event = decode('customer event', message.value, (b) => CustomerEvent.decode(b))
      const eventId = event.metadata?.eventId ?? ''
      if (!eventId) throw new PoisonMessage('customer event without metadata.event_id')
      const kind = event.payload?.$case
      if (kind !== 'created' && kind !== 'deleted') return
      if (!isUuid(event.customerId)) throw new PoisonMessage('customer event without a customer_id UUID')
      await applyCustomerFact(deps, { kind, eventId, customerId: event.customerId.toLowerCase() })
    }
  }
}
