import type { Actor } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import type { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { OrderStatus, type Order } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import {
  BaristaCommandRejected_Reason as Reject,
  BaristaSessionResponse,
  QueueOrderRemoved_Reason as Removed,
  type BaristaSessionRequest,
} from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { AsyncQueue } from '@brewmesh/runtime/streams/async-queue.ts'
import { AppError, permissionDenied } from '@brewmesh/runtime/errors.ts'
import type { CallContext, Send } from '@brewmesh/runtime/grpc/calls.ts'
import { advanceOrder, claimOrder, releaseOrder } from '../domain/orders.ts'
import type { OrderDeps } from '../domain/ports.ts'
import type { OrderBus } from '../events/order-bus.ts'

const MAX_PENDING = 1000
const QUEUE_LIMIT = 200

type Item = { kind: 'command'; request: BaristaSessionRequest } | { kind: 'event'; event: OrderEvent }

/** A command's failure as the rejection the contract names. */
function rejection(err: unknown): { reason: Reject; message: string } {
  if (!(err instanceof AppError)) throw err
  const m = err.message
  const reason =
    err.kind === 'not_found'
      ? Reject.REASON_ORDER_NOT_FOUND
      : err.kind === 'already_exists'
        ? Reject.REASON_ALREADY_CLAIMED
        : err.kind === 'aborted'
          ? Reject.REASON_STATUS_MISMATCH
          : err.kind === 'invalid'
            ? Reject.REASON_INVALID_COMMAND
            : /not held by|another barista/.test(m)
              ? Reject.REASON_NOT_CLAIMED_BY_YOU
              : /CANCELLED/.test(m)
                ? Reject.REASON_ORDER_CANCELLED
                : Reject.REASON_ILLEGAL_TRANSITION
  return { reason, message: m }
}

/** What a queue change means to this barista, pushed with an empty command id. */
function push(event: OrderEvent, baristaId: string): BaristaSessionResponse['event'] {
  const p = event.payload
  switch (p?.$case) {
    case 'paymentProcessed':
      return p.value.approved && p.value.order ? { $case: 'available', value: { order: p.value.order, position: 0 } } : undefined
    case 'assignmentChanged': {
      const order = p.value.order
      if (!order) return undefined
      if (p.value.baristaId) return { $case: 'claimed', value: { order, baristaId: p.value.baristaId } }
      return p.value.previousBaristaId === baristaId ? undefined : { $case: 'available', value: { order, position: 0 } }
    }
    case 'statusChanged':
      return p.value.order?.baristaId === baristaId
        ? { $case: 'advanced', value: { order: p.value.order, previousStatus: p.value.previousStatus } }
        : undefined
    case 'completed':
      return p.value.order ? { $case: 'removed', value: { order: p.value.order, reason: Removed.REASON_COMPLETED } } : undefined
    case 'cancelled':
      return p.value.order && p.value.previousStatus !== OrderStatus.ORDER_STATUS_PLACED
        ? { $case: 'removed', value: { order: p.value.order, reason: Removed.REASON_CANCELLED } }
        : undefined
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
export function baristaSession(deps: OrderDeps, bus: OrderBus, staff: Actor) {
  return async (requests: AsyncIterable<BaristaSessionRequest>, send: Send<BaristaSessionResponse>, ctx: CallContext): Promise<void> => {
    const items = new AsyncQueue<Item>(MAX_PENDING, ctx.signal)
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

    const answer = (commandId: string, event: BaristaSessionResponse['event']) => send({ commandId, event })
    const reject = (commandId: string, reason: Reject, message: string, order?: Order) =>
      answer(commandId, { $case: 'rejected', value: { reason, message, order } })
    try {
      for await (const item of items) {
        if (item.kind === 'event') {
          if (!joined) continue
          const order = item.event.payload && 'order' in item.event.payload.value ? item.event.payload.value.order : undefined
          const event = push(item.event, joined.id)
          if (event && fresh(order) && !(await answer('', event))) return
          continue
        }
        const { commandId, command } = item.request
        if (command?.$case === 'join') {
          if (joined) {
            if (!(await reject(commandId, Reject.REASON_ALREADY_JOINED, 'already joined'))) return
            continue
          }
          const id = command.value.baristaId || staff.id
          if (id !== staff.id) throw permissionDenied(`a token for ${staff.id} cannot join as ${id}`)
          joined = { ...staff, displayName: command.value.displayName }
          unsubscribe = bus.subscribe('*', (event) => void items.push({ kind: 'event', event }))
          const queue = await deps.store.queue(QUEUE_LIMIT)
          queue.forEach(fresh)
          if (!(await answer(commandId, { $case: 'snapshot', value: { queue, asOf: deps.clock() } }))) return
          const claimed = await deps.store.claimedBy(id)
          claimed.forEach(fresh)
          if (!(await answer(commandId, { $case: 'resumed', value: { baristaId: id, claimedOrders: claimed } }))) return
          continue
        }
        if (!joined) {
          if (!(await reject(commandId, Reject.REASON_NOT_JOINED, 'send join first'))) return
          continue
        }
        // A command answered before (on this stream or an earlier one) gets the same answer again.
        const earlier = commandId ? await deps.store.commandAnswer(joined.id, commandId) : undefined
        if (earlier) {
          if (!(await send(BaristaSessionResponse.decode(earlier)))) return
          continue
        }
        const remember = async (response: BaristaSessionResponse) => {
          if (commandId && command?.$case !== 'refresh')
            await deps.store.saveCommandAnswer(joined!.id, commandId, BaristaSessionResponse.encode(response).finish())
          return send(response)
        }
        try {
          let event: BaristaSessionResponse['event']
          if (command?.$case === 'claim') {
            const order = await claimOrder(deps, joined, command.value.orderId)
            event = { $case: 'claimed', value: { order, baristaId: joined.id } }
            fresh(order)
          } else if (command?.$case === 'advance') {
            const before = (await deps.store.order(command.value.orderId.toLowerCase()))?.status ?? 0
            const order = await advanceOrder(deps, joined, command.value.orderId, command.value.expectedStatus, joined.id)
            fresh(order)
            event =
              order.status === OrderStatus.ORDER_STATUS_COMPLETED
                ? { $case: 'removed', value: { order, reason: Removed.REASON_COMPLETED } }
                : { $case: 'advanced', value: { order, previousStatus: before } }
          } else if (command?.$case === 'release') {
            const order = await releaseOrder(deps, joined, command.value.orderId, command.value.reason)
            fresh(order)
            event = { $case: 'released', value: { order, baristaId: joined.id } }
          } else if (command?.$case === 'refresh') {
            const queue = await deps.store.queue(QUEUE_LIMIT)
            queue.forEach(fresh)
            event = { $case: 'snapshot', value: { queue, asOf: deps.clock() } }
          } else {
            if (!(await reject(commandId, Reject.REASON_INVALID_COMMAND, 'unknown command'))) return
            continue
          }
          if (!(await remember({ commandId, event }))) return
        } catch (err) {
          const { reason, message } = rejection(err)
          if (!(await remember({ commandId, event: { $case: 'rejected', value: { reason, message, order: undefined } } }))) return
        }
      }
    } finally {
      unsubscribe()
      items.close()
    }
  }
}
