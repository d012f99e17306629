import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import type { OutboxMessage } from '@brewmesh/runtime/db'
import { eventEnvelope } from '@brewmesh/runtime/kafka'
import type { OrderChange } from '../domain/ports.ts'
import { actorFromProto, actorToProto, money, orderFromProto, orderStatus, orderToProto } from '../proto/order-mapper.ts'

function payloadOf(change: OrderChange): { type: string; payload: OrderEvent['payload'] } {
  const order = orderToProto(change.order)
  switch (change.kind) {
    case 'placed':
      return { type: 'brewmesh.order.v1.OrderPlaced', payload: { $case: 'placed', value: { order } } }
    case 'payment_processed': {
      const p = change.order.payment
      const value = {
        approved: change.approved,
        amount: order.payment?.amount,
        processorReference: p.processorReference,
        declineReason: p.declineReason,
        processedAt: p.processedAt,
        order,
      }
      return { type: 'brewmesh.order.v1.PaymentProcessed', payload: { $case: 'paymentProcessed', value } }
    }
    case 'status_changed': {
      const value = { previousStatus: orderStatus.to(change.previous), status: order.status, changedBy: actorToProto(change.by), order }
      return { type: 'brewmesh.order.v1.OrderStatusChanged', payload: { $case: 'statusChanged', value } }
    }
    case 'completed':
      return {
        type: 'brewmesh.order.v1.OrderCompleted',
        payload: { $case: 'completed', value: { order, completedBy: actorToProto(change.by) } },
      }
    case 'cancelled': {
      const refunded = change.order.payment.refundedAmount
      const value = {
        reason: order.cancelReason,
        reasonCode: order.cancelReasonCode,
        previousStatus: orderStatus.to(change.previous),
        cancelledBy: actorToProto(change.by),
        refund: refunded === undefined ? undefined : money(refunded, change.order.currency),
        order,
      }
      return { type: 'brewmesh.order.v1.OrderCancelled', payload: { $case: 'cancelled', value } }
    }
    case 'assignment_changed': {
      const value = { previousBaristaId: change.previousBaristaId, baristaId: order.baristaId, reason: change.reason, order }
      return { type: 'brewmesh.order.v1.OrderAssignmentChanged', payload: { $case: 'assignmentChanged', value } }
    }
  }
}

/** An order change as the event the outbox relay publishes: key = order id, so one order's events stay in order. */
export function toOutboxMessage(topic: string, change: OrderChange): OutboxMessage {
  const { type, payload } = payloadOf(change)
  const { metadata, headers } = eventEnvelope('order', type, change.at)
  const o = change.order
  const event: OrderEvent = {
    metadata,
    orderId: o.id,
    customerId: o.customerId,
    householdId: o.householdId,
    version: o.version,
    status: orderStatus.to(o.status),
    payload,
  }
  // A payment's outcome as a header too, so operators count paid and declined orders apart
  // (outbox_published_total{outcome}) without decoding the payload.
  const outcome: Record<string, string> =
    change.kind === 'payment_processed' ? { 'event-outcome': change.approved ? 'approved' : 'declined' } : {}
  return { topic, key: o.id, payload: OrderEvent.encode(event).finish(), headers: { ...headers, ...outcome } }
}

/** An order event read back from the topic (this replica's streams); undefined for payloads this version does not know. */
export function changeFromEvent(event: OrderEvent): OrderChange | undefined {
  const p = event.payload
  if (!p?.value.order) return undefined
  const order = orderFromProto(p.value.order)
  const at = event.metadata?.occurredAt ?? order.updatedAt
  const previous = (status: number) => orderStatus.from(status) ?? order.status
  const by = (actor: Parameters<typeof actorFromProto>[0] | undefined) =>
    actor ? actorFromProto(actor) : { kind: 'system' as const, id: '', displayName: '' }
  switch (p.$case) {
    case 'placed':
      return { kind: 'placed', order, at }
    case 'paymentProcessed':
      return { kind: 'payment_processed', order, approved: p.value.approved, at }
    case 'statusChanged':
      return { kind: 'status_changed', order, previous: previous(p.value.previousStatus), by: by(p.value.changedBy), at }
    case 'completed':
      return { kind: 'completed', order, by: by(p.value.completedBy), at }
    case 'cancelled':
      return { kind: 'cancelled', order, previous: previous(p.value.previousStatus), by: by(p.value.cancelledBy), at }
    case 'assignmentChanged':
      return { kind: 'assignment_changed', order, previousBaristaId: p.value.previousBaristaId, reason: p.value.reason, at }
  }
}
