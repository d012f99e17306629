import type { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import type { Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { WatchOrderResponse_ChangeKind as Kind, type WatchOrderResponse } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { AsyncQueue } from '@brewmesh/runtime/streams/async-queue.ts'
import type { CallContext, Send } from '@brewmesh/runtime/grpc/calls.ts'
import { isFinal } from '../domain/lifecycle.ts'
import type { OrderBus } from '../events/order-bus.ts'

const MAX_PENDING = 100

/** What an order event means to a watcher; undefined for events that change nothing it shows. */
export function watchUpdate(event: OrderEvent): WatchOrderResponse | undefined {
  const p = event.payload
  const changedAt = event.metadata?.occurredAt
  switch (p?.$case) {
    case 'paymentProcessed':
      return { kind: Kind.CHANGE_KIND_PAYMENT_PROCESSED, order: p.value.order, previousStatus: 1, changedAt }
    case 'statusChanged':
      return { kind: Kind.CHANGE_KIND_STATUS_CHANGED, order: p.value.order, previousStatus: p.value.previousStatus, changedAt }
    case 'completed':
      return { kind: Kind.CHANGE_KIND_STATUS_CHANGED, order: p.value.order, previousStatus: 4, changedAt }
    case 'cancelled':
      return { kind: Kind.CHANGE_KIND_STATUS_CHANGED, order: p.value.order, previousStatus: p.value.previousStatus, changedAt }
    case 'assignmentChanged':
      return { kind: Kind.CHANGE_KIND_ASSIGNMENT_CHANGED, order: p.value.order, previousStatus: p.value.order?.status ?? 0, changedAt }
    default:
      return undefined
  }
}

/**
 * Server streaming: the order now, then every change (from any replica, through the order topic)
 * until it is completed or cancelled. Subscribes before reading, and drops events at or below the
 * version already sent, so nothing is missed or repeated.
 */
export async function watchOrder(
  bus: OrderBus,
  load: () => Promise<Order>,
  send: Send<WatchOrderResponse>,
  ctx: CallContext,
): Promise<void> {
  const queue = new AsyncQueue<OrderEvent>(MAX_PENDING, ctx.signal)
  const first = await load()
  const unsubscribe = bus.subscribe(first.id, (event) => void queue.push(event))
  try {
    let current = await load()
    if (!(await send({ kind: Kind.CHANGE_KIND_SNAPSHOT, order: current, previousStatus: 0, changedAt: current.updatedAt }))) return
    if (isFinal(current.status)) return
    for await (const event of queue) {
      const update = watchUpdate(event)
      if (!update?.order || update.order.version <= current.version) continue
      current = update.order
      if (!(await send(update))) return
      if (isFinal(current.status)) return
    }
  } finally {
    unsubscribe()
  }
}
