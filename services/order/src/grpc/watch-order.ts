import { WatchOrderResponse_ChangeKind as Kind, type WatchOrderResponse } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import type { Call } from '@brewmesh/runtime/grpc'
import { AsyncQueue, type FanOut } from '@brewmesh/runtime/streams'
import { getOrder } from '../domain/orders.ts'
import type { OrderChange, OrderDeps } from '../domain/ports.ts'
import { WatchCursor, type WatchUpdate } from '../domain/watch.ts'
import { orderStatus, orderToProto } from '../proto/order-mapper.ts'

/** Changes a slow watcher may fall behind by before its stream is ended. */
const MAX_PENDING = 100

const KIND: Record<WatchUpdate['kind'], Kind> = {
  snapshot: Kind.CHANGE_KIND_SNAPSHOT,
  status_changed: Kind.CHANGE_KIND_STATUS_CHANGED,
  payment_processed: Kind.CHANGE_KIND_PAYMENT_PROCESSED,
  assignment_changed: Kind.CHANGE_KIND_ASSIGNMENT_CHANGED,
}

const toProto = (u: WatchUpdate): WatchOrderResponse => ({
  kind: KIND[u.kind],
  order: orderToProto(u.order),
  previousStatus: u.previous ? orderStatus.to(u.previous) : 0,
  changedAt: u.at,
})

/**
 * Server streaming: the order now, then every change (from any replica, through the order topic)
 * until it is completed or cancelled. Subscribes before reading, so nothing falls between the
 * snapshot and the feed; the cursor drops what the snapshot already covered.
 */
export async function* watchOrder(
  deps: OrderDeps,
  changes: FanOut<OrderChange>,
  id: string,
  call: Call,
): AsyncIterable<WatchOrderResponse> {
  const { queue, unsubscribe } = await follow(deps, changes, id, call)
  try {
    const { cursor, message } = await snapshot(deps, id)
    yield message
    if (cursor.done) return
    for await (const change of queue) {
      const update = cursor.accept(change)
      if (!update) continue
      yield toProto(update)
      if (cursor.done) return
    }
  } finally {
    unsubscribe()
  }
}

/** The order now, as the stream's first message, and the cursor that starts from it (the order itself is not kept). */
async function snapshot(deps: OrderDeps, id: string): Promise<{ cursor: WatchCursor; message: WatchOrderResponse }> {
  const current = await getOrder(deps, id)
  return {
    cursor: new WatchCursor(current),
    message: toProto({ kind: 'snapshot', order: current, previous: undefined, at: current.updatedAt }),
  }
}

/**
 * Authorizes the caller against the stored order, then subscribes to its changes. Apart from the
 * generator so that this first read is not kept in its frame for as long as the stream stays open
 * (an order a stream, 10,000 streams: bench/README.md watch-streams).
 */
async function follow(deps: OrderDeps, changes: FanOut<OrderChange>, id: string, call: Call) {
  const order = await getOrder(deps, id)
  call.authorize({ customerId: order.customerId, householdId: order.householdId })
  const queue = new AsyncQueue<OrderChange>(MAX_PENDING, call.signal)
  const unsubscribe = changes.subscribe(order.id, (change) => void queue.push(change))
  return { queue, unsubscribe }
}
