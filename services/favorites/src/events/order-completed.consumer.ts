import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { decodeOrPoison, mayBeOf, PoisonMessage, relevant, type BatchHandler, type ReceivedMessage } from '@brewmesh/runtime/kafka'
import type { Logger } from '@brewmesh/runtime/logger'
import { learnFromCompletedOrders, type CompletedOrder } from '../domain/learning.ts'
import type { FavoritesDeps } from '../domain/ports.ts'
import { isUuid } from '@brewmesh/runtime/ids'
import { customizationFromProto } from '../proto/favorites-mapper.ts'

/** Reads an OrderCompleted into what learning needs; other order events are not for this service. */
export function completedOrderOf(event: OrderEvent): CompletedOrder | undefined {
  if (event.payload?.$case !== 'completed') return undefined
  const order = event.payload.value.order
  const eventId = event.metadata?.eventId ?? ''
  if (!eventId) throw new PoisonMessage('order event without metadata.event_id')
  if (!order?.id || !isUuid(order.customerId)) throw new PoisonMessage('OrderCompleted without order id or customer id')
  // Members are customer ids (uuid columns): one that is not would fail the whole chunk's transaction.
  if (order.lines.some((l) => l.memberCustomerId && !isUuid(l.memberCustomerId)))
    throw new PoisonMessage(`order ${order.id}: a member id is not a UUID`)
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

/** The one order event this service acts on; the others are skipped by their header, unread. */
const COMPLETED = new Set(['brewmesh.order.v1.OrderCompleted'])

/** A received order event as a completed order; undefined for the other events, unread. */
export const completedOrderReceived = (received: ReceivedMessage): CompletedOrder | undefined =>
  mayBeOf(received, COMPLETED) ? completedOrderOf(decodeOrPoison(received, OrderEvent, 'brewmesh.order.v1.OrderEvent')) : undefined

/**
 * The order events consumer (group "favorites"), a chunk at a time: the chunk's completed orders
 * count toward the learned usual in one transaction; a chunk without one (placed, paid,
 * cancelled...) touches nothing.
 */
export function orderEventsHandler(deps: FavoritesDeps, log: Logger): BatchHandler<CompletedOrder | undefined> {
  return {
    decode: completedOrderReceived,
    handleBatch: async (items) => {
      const completed = relevant(items)
      if (completed.length === 0) return
      const applied = await learnFromCompletedOrders(deps, completed)
      log.debug({ orders: completed.length, applied }, 'completed orders learned')
    },
  }
}
