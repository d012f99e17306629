import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import type { OutboxMessage } from '@brewmesh/runtime/db'
import { eventEnvelope } from '@brewmesh/runtime/kafka'
import type { OrderChange } from '../domain/ports.ts'

function payloadOf(change: OrderChange): { type: string; payload: OrderEvent['payload'] } {
  const order = change.order
  switch (change.kind) {
    case 'placed':
      return { type: 'brewmesh.order.v1.OrderPlaced', payload: { $case: 'placed', value: { order } } }
    case 'payment_processed': {
      const p = order.payment
      const value = {
        approved: change.approved,
        amount: p?.amount,
        processorReference: p?.processorReference ?? '',
        declineReason: p?.declineReason ?? '',
        processedAt: p?.processedAt,
        order,
      }
      return { type: 'brewmesh.order.v1.PaymentProcessed', payload: { $case: 'paymentProcessed', value } }
    }
    case 'status_changed':
      return {
        type: 'brewmesh.order.v1.OrderStatusChanged',
        payload: { $case: 'statusChanged', value: { previousStatus: change.previous, status: order.status, changedBy: change.by, order } },
      }
    case 'completed':
      return { type: 'brewmesh.order.v1.OrderCompleted', payload: { $case: 'completed', value: { order, completedBy: change.by } } }
    case 'cancelled': {
      const refund = order.payment?.refundedAmount
      const value = {
        reason: order.cancelReason,
        reasonCode: order.cancelReasonCode,
        previousStatus: change.previous,
        cancelledBy: change.by,
        refund,
        order,
      }
      return { type: 'brewmesh.order.v1.OrderCancelled', payload: { $case: 'cancelled', value } }
    }
    case 'assignment_changed':
      return {
        type: 'brewmesh.order.v1.OrderAssignmentChanged',
        payload: {
          $case: 'assignmentChanged',
          value: { previousBaristaId: change.previousBaristaId, baristaId: order.baristaId, reason: change.reason, order },
        },
      }
  }
}

/** An order change as the event the outbox relay publishes: key = order id, so one order's events stay in order. */
export function toOutboxMessage(topic: string, change: OrderChange, now: Date): OutboxMessage {
  const { type, payload } = payloadOf(change)
  const { metadata, headers } = eventEnvelope('order', type, now)
  const o = change.order
  const event: OrderEvent = {
    metadata,
    orderId: o.id,
    customerId: o.customerId,
    householdId: o.householdId,
    version: o.version,
    status: o.status,
    payload,
  }
  return { topic, key: o.id, payload: OrderEvent.encode(event).finish(), headers: { ...headers } }
}
