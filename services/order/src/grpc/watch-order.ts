import { WatchOrderResponse_ChangeKind as Kind, type WatchOrderResponse } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import type { Call } from '@brewmesh/runtime/grpc'
import { uuidOf } from '@brewmesh/runtime/ids'
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
 * snapshot and the feed; the cursor drops what the snapshot already covered. The caller is
 * authorized against the stored order before anything is sent.
 */
export function watchOrder(deps: OrderDeps, changes: FanOut<OrderChange>, id: string, call: Call): AsyncIterable<WatchOrderResponse> {
  return new OrderWatch(() => open(deps, changes, id, call))
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true }

interface Opened {
  first: WatchOrderResponse
  queue: AsyncQueue<OrderChange>
  cursor: WatchCursor
  unsubscribe: () => void
}

/**
 * Subscribes to the order's changes, waits for the feed to be live, reads the order, authorizes
 * the caller against it, and makes the snapshot that is sent first. Subscribing first (and reading
 * once the feed is live) means nothing falls between the read and the feed, and one read serves
 * both the authorization and the snapshot; a failure unsubscribes.
 */
async function open(deps: OrderDeps, changes: FanOut<OrderChange>, id: string, call: Call): Promise<Opened> {
  const key = uuidOf(id, 'id') // the stored form the feed publishes under
  // No signal for the queue: the stream's writer ends the watch (return()) when the caller leaves.
  const queue = new AsyncQueue<OrderChange>(MAX_PENDING)
  const unsubscribe = changes.subscribe(key, (change) => void queue.push(change))
  try {
    await changes.live() // a feed that slept for want of streams fetches again first
    const current = await getOrder(deps, key)
    call.authorize({ customerId: current.customerId, householdId: current.householdId })
    const first = toProto({ kind: 'snapshot', order: current, previous: undefined, at: current.updatedAt })
    return { first, queue, cursor: new WatchCursor(current), unsubscribe }
  } catch (err) {
    unsubscribe()
    throw err
  }
}

/**
 * A WatchOrder stream: an iterator of its own rather than an async generator. A watch waits for
 * most of its life, and a suspended generator keeps its registers, which held the snapshot it had
 * sent (the whole order as a message) and later the last change, for as long as the stream stayed
 * open (about 2 KiB of each of 10,000 streams, bench/README.md watch-streams). Between messages
 * this keeps the queue, the two-field cursor and the subscription, nothing it sent.
 */
class OrderWatch implements AsyncIterableIterator<WatchOrderResponse, undefined> {
  /** Opens the watch on the first next(); dropped once called, with what it closes over. */
  private start: (() => Promise<Opened>) | undefined
  private queue: AsyncQueue<OrderChange> | undefined
  private cursor: WatchCursor | undefined
  private unsubscribe: (() => void) | undefined
  /** return() ran. Only an open still in flight reads it; once open, a closed watch has no queue. */
  private closed = false

  constructor(start: () => Promise<Opened>) {
    this.start = start
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<WatchOrderResponse, undefined>> {
    const start = this.start
    if (start) {
      this.start = undefined
      return start().then(this.opened, this.failed)
    }
    if (!this.queue || this.cursor?.done) return this.return()
    return this.queue.next().then(this.changed, this.failed)
  }

  /** The stream is done (the order is final, or the caller left): unsubscribes, drops what is queued. */
  return(): Promise<IteratorResult<WatchOrderResponse, undefined>> {
    this.close()
    return Promise.resolve(DONE)
  }

  private close(): void {
    this.closed = true
    this.unsubscribe?.()
    void this.queue?.return()
    this.queue = this.cursor = this.unsubscribe = undefined
  }

  private readonly opened = (o: Opened): IteratorResult<WatchOrderResponse, undefined> => {
    this.queue = o.queue
    this.cursor = o.cursor
    this.unsubscribe = o.unsubscribe
    // The caller left while the watch was opening: what it opened is closed again, nothing sent.
    if (this.closed) {
      this.close()
      return DONE
    }
    return { value: o.first, done: false }
  }

  /** One change from the feed: the message it makes, or the next one when the cursor drops it. */
  private readonly changed = (
    step: IteratorResult<OrderChange, undefined>,
  ): IteratorResult<WatchOrderResponse, undefined> | Promise<IteratorResult<WatchOrderResponse, undefined>> => {
    if (step.done) return this.return()
    const update = this.cursor?.accept(step.value)
    return update ? { value: toProto(update), done: false } : this.next()
  }

  private readonly failed = (err: unknown): never => {
    this.close()
    throw err
  }
}
