import type { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { WatchOrderResponse_ChangeKind as Kind, type WatchOrderResponse } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import type { Call } from '@brewmesh/runtime/grpc'
import { AsyncQueue, type FanOut } from '@brewmesh/runtime/streams'
import { isFinal } from '../domain/lifecycle.ts'
import { getOrder } from '../domain/orders.ts'
import type { OrderDeps } from '../domain/ports.ts'

/** Changes a slow watcher may fall behind by before its stream is ended. */
const MAX_PENDING = 100

/** What an order event means to a watcher; undefined for events that change nothing it shows. */
export function watchUpdate(event: OrderEvent): WatchOrderResponse | undefined {
  const p = event.payload
  const changedAt = event.metadata?.occurredAt
  switch (p?.$case) {
    case 'paymentProcessed':
      return { kind: Kind.CHANGE_KIND_PAYMENT_PROCESSED, order: p.value.order, previousStatus: OrderStatus.ORDER_STATUS_PLACED, changedAt }
    case 'statusChanged':
      return { kind: Kind.CHANGE_KIND_STATUS_CHANGED, order: p.value.order, previousStatus: p.value.previousStatus, changedAt }
    case 'completed':
      return { kind: Kind.CHANGE_KIND_STATUS_CHANGED, order: p.value.order, previousStatus: OrderStatus.ORDER_STATUS_READY, changedAt }
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
export async function* watchOrder(deps: OrderDeps, changes: FanOut<OrderEvent>, id: string, call: Call): AsyncIterable<WatchOrderResponse> {
  const first = await getOrder(deps, id)
  call.authorize({ customerId: first.customerId, householdId: first.householdId })
  const queue = new AsyncQueue<OrderEvent>(MAX_PENDING, call.signal)
  const unsubscribe = changes.subscribe(first.id, (event) => void queue.push(event))
  try {
    let current = await getOrder(deps, id)
    yield { kind: Kind.CHANGE_KIND_SNAPSHOT, order: current, previousStatus: 0, changedAt: current.updatedAt }
    if (isFinal(current.status)) return
    for await (const event of queue) {
      const update = watchUpdate(event)
      if (!update?.order || update.order.version <= current.version) continue
      current = update.order
      yield update
      if (isFinal(current.status)) return
    }
  } finally {
    unsubscribe()
  }
}
