import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import type { Logger } from '@brewmesh/runtime/logger.ts'
import { learnFromCompletedOrder, type CompletedOrder } from '../domain/learning.ts'
import type { FavoritesDeps } from '../domain/ports.ts'
import { customizationFromProto } from '../proto/favorites-mapper.ts'

/** Reads an OrderCompleted into what learning needs; other order events are not for this service. */
export function completedOrderOf(event: OrderEvent): CompletedOrder | undefined {
  if (event.payload?.$case !== 'completed') return undefined
  const order = event.payload.value.order
  const eventId = event.metadata?.eventId ?? ''
  if (!eventId) throw new PoisonMessage('order event without metadata.event_id')
  if (!order?.id || !order.customerId) throw new PoisonMessage('OrderCompleted without order id or customer id')
  return {
    eventId,
    orderId: order.id,
    customerId: order.customerId,
    completedAt: order.completedAt ?? event.metadata?.occurredAt ?? new Date(),
    lines: order.lines.map((line) => ({
      memberCustomerId: line.memberCustomerId,
      menuItemId: line.menuItemId.toLowerCase(),
      displayName: line.menuItemName,
      customization: customizationFromProto(line.customization),
    })),
  }
}

/** The order events consumer (group "favorites"): completed orders count toward the learned usual. */
export function orderEventsHandler(deps: FavoritesDeps, log: Logger) {
  return async ({ message }: ReceivedMessage): Promise<void> => {
    if (!message.value) throw new PoisonMessage('order event without a value')
    let event: OrderEvent
    try {
      event = OrderEvent.decode(message.value)
    } catch (err) {
      throw new PoisonMessage('not a brewmesh.order.v1.OrderEvent', { cause: err })
    }
    const order = completedOrderOf(event)
    if (!order) return
    const applied = await learnFromCompletedOrder(deps, order)
    log.debug(
      { orderId: order.orderId, eventId: order.eventId, applied },
      applied ? 'completed order learned' : 'completed order seen before',
    )
  }
}
