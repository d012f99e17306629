import {
  BaristaCommandRejected_Reason as Reject,
  BaristaSessionResponse,
  QueueOrderRemoved_Reason as Removed,
  type BaristaSessionRequest,
} from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { AppError, permissionDenied } from '@brewmesh/runtime/errors'
import { AsyncQueue, type FanOut } from '@brewmesh/runtime/streams'
import type { Actor, Order } from '../domain/order.ts'
import { advanceOrder, claimOrder, releaseOrder } from '../domain/orders.ts'
import type { OrderChange, OrderDeps } from '../domain/ports.ts'
import { REASON, type Reason } from '../domain/reasons.ts'
import { EVERY_ORDER } from '../events/order-feed.consumer.ts'
import { orderStatus, orderToProto } from '../proto/order-mapper.ts'

const MAX_PENDING = 1000
const QUEUE_LIMIT = 200

type Item = { kind: 'command'; request: BaristaSessionRequest } | { kind: 'change'; change: OrderChange }

/** The refusals a barista's command can meet, as the rejections the contract names. */
const REJECTION: Partial<Record<Reason, Reject>> = {
  [REASON.alreadyClaimed]: Reject.REASON_ALREADY_CLAIMED,
  [REASON.notClaimedByYou]: Reject.REASON_NOT_CLAIMED_BY_YOU,
  [REASON.statusMismatch]: Reject.REASON_STATUS_MISMATCH,
  [REASON.orderCancelled]: Reject.REASON_ORDER_CANCELLED,
  [REASON.illegalTransition]: Reject.REASON_ILLEGAL_TRANSITION,
  [REASON.queueEmpty]: Reject.REASON_QUEUE_EMPTY,
}

/** A command's failure as the rejection the contract names; anything else (a dependency down) ends the stream. */
function rejection(err: unknown): { reason: Reject; message: string } {
  if (!(err instanceof AppError)) throw err
  const reason =
    err.kind === 'invalid'
      ? Reject.REASON_INVALID_COMMAND
      : err.kind === 'not_found'
        ? Reject.REASON_ORDER_NOT_FOUND
        : err.reason
          ? REJECTION[err.reason as Reason]
          : undefined
  if (reason === undefined) throw err
  return { reason, message: err.message }
}

/** What a queue change means to this barista, pushed with an empty command id. */
function push(change: OrderChange, baristaId: string): BaristaSessionResponse['event'] {
  const order = orderToProto(change.order)
  switch (change.kind) {
    case 'payment_processed':
      return change.approved ? { $case: 'available', value: { order, position: 0 } } : undefined
    case 'assignment_changed':
      if (change.order.baristaId) return { $case: 'claimed', value: { order, baristaId: change.order.baristaId } }
      return change.previousBaristaId === baristaId ? undefined : { $case: 'available', value: { order, position: 0 } }
    case 'status_changed':
      return change.order.baristaId === baristaId
        ? { $case: 'advanced', value: { order, previousStatus: orderStatus.to(change.previous) } }
        : undefined
    case 'completed':
      return { $case: 'removed', value: { order, reason: Removed.REASON_COMPLETED } }
    case 'cancelled':
      return change.previous !== 'placed' ? { $case: 'removed', value: { order, reason: Removed.REASON_CANCELLED } } : undefined
    default:
      return undefined
  }
}

/**
 * Bidirectional: the barista queue. After join: the queue (snapshot), then the orders this barista
 * holds (resumed, also after a reconnect to any replica); then one answer per command and pushes of
 * what other baristas and the payment processor do. Claims are conditional updates in PostgreSQL,
 * so two baristas never hold one order; every order version reaches the stream once.
 */
export async function* baristaSession(
  deps: OrderDeps,
  changes: FanOut<OrderChange>,
  requests: AsyncIterable<BaristaSessionRequest>,
  staff: Actor,
  signal: AbortSignal,
): AsyncIterable<BaristaSessionResponse> {
  const items = new AsyncQueue<Item>(MAX_PENDING, signal)
  const sent = new Map<string, number>() // order id → highest version sent
  const fresh = (o: Order | undefined) => {
    if (!o) return false
    if ((sent.get(o.id) ?? 0) >= o.version) return false
    sent.set(o.id, o.version)
    return true
  }
  let joined: Actor | undefined
  let unsubscribe = () => {}
  void (async () => {
    for await (const request of requests) items.push({ kind: 'command', request })
    items.close()
  })().catch((err: unknown) => items.close(err instanceof Error ? err : new Error(String(err))))

  const rejected = (commandId: string, reason: Reject, message: string): BaristaSessionResponse => ({
    commandId,
    event: { $case: 'rejected', value: { reason, message, order: undefined } },
  })
  try {
    for await (const item of items) {
      if (item.kind === 'change') {
        if (!joined) continue
        const event = push(item.change, joined.id)
        if (event && fresh(item.change.order)) yield { commandId: '', event }
        continue
      }
      const { commandId, command } = item.request
      if (command?.$case === 'join') {
        if (joined) {
          yield rejected(commandId, Reject.REASON_ALREADY_JOINED, 'already joined')
          continue
        }
        const id = command.value.baristaId || staff.id
        if (id !== staff.id) throw permissionDenied(`a token for ${staff.id} cannot join as ${id}`)
        joined = { ...staff, displayName: command.value.displayName }
        unsubscribe = changes.subscribe(EVERY_ORDER, (change) => void items.push({ kind: 'change', change }))
        const queue = await deps.store.queue(QUEUE_LIMIT)
        queue.forEach(fresh)
        yield { commandId, event: { $case: 'snapshot', value: { queue: queue.map(orderToProto), asOf: deps.clock() } } }
        const claimed = await deps.store.claimedBy(id)
        claimed.forEach(fresh)
        yield { commandId, event: { $case: 'resumed', value: { baristaId: id, claimedOrders: claimed.map(orderToProto) } } }
        continue
      }
      if (!joined) {
        yield rejected(commandId, Reject.REASON_NOT_JOINED, 'send join first')
        continue
      }
      // A command answered before (on this stream or an earlier one) gets the same answer again.
      const earlier = commandId ? await deps.store.commandAnswer(joined.id, commandId) : undefined
      if (earlier) {
        yield BaristaSessionResponse.decode(earlier)
        continue
      }
      let response: BaristaSessionResponse
      try {
        if (command?.$case === 'claim') {
          const order = await claimOrder(deps, joined, command.value.orderId)
          fresh(order)
          response = { commandId, event: { $case: 'claimed', value: { order: orderToProto(order), baristaId: joined.id } } }
        } else if (command?.$case === 'advance') {
          const expected = orderStatus.from(command.value.expectedStatus)
          const { order, previous } = await advanceOrder(deps, joined, command.value.orderId, expected, joined.id, 'order_id')
          fresh(order)
          response = {
            commandId,
            event:
              order.status === 'completed'
                ? { $case: 'removed', value: { order: orderToProto(order), reason: Removed.REASON_COMPLETED } }
                : { $case: 'advanced', value: { order: orderToProto(order), previousStatus: orderStatus.to(previous) } },
          }
        } else if (command?.$case === 'release') {
          const order = await releaseOrder(deps, joined, command.value.orderId, command.value.reason)
          fresh(order)
          response = { commandId, event: { $case: 'released', value: { order: orderToProto(order), baristaId: joined.id } } }
        } else if (command?.$case === 'refresh') {
          const queue = await deps.store.queue(QUEUE_LIMIT)
          queue.forEach(fresh)
          yield { commandId, event: { $case: 'snapshot', value: { queue: queue.map(orderToProto), asOf: deps.clock() } } }
          continue
        } else {
          yield rejected(commandId, Reject.REASON_INVALID_COMMAND, 'unknown command')
          continue
        }
      } catch (err) {
        const { reason, message } = rejection(err)
        response = rejected(commandId, reason, message)
      }
      if (commandId) await deps.store.saveCommandAnswer(joined.id, commandId, BaristaSessionResponse.encode(response).finish())
      yield response
    }
  } finally {
    unsubscribe()
    items.close()
  }
}
