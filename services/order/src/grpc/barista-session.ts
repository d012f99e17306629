import {
  BaristaCommandRejected_Reason as Reject,
  BaristaSessionResponse,
  QueueOrderRemoved_Reason as Removed,
  type BaristaSessionRequest,
} from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { AppError, permissionDenied } from '@brewmesh/runtime/errors'
import { messageViolations } from '@brewmesh/runtime/grpc'
import { isUuid } from '@brewmesh/runtime/ids'
import { AsyncQueue, type FanOut } from '@brewmesh/runtime/streams'
import { answerId, sessionStep, type BaristaCommand, type SessionRejection, type SessionStep } from '../domain/barista.ts'
import type { Actor, Order } from '../domain/order.ts'
import { advanceOrder, claimOrder, releaseOrder, type Advanced } from '../domain/orders.ts'
import type { OrderChange, OrderDeps, OrderTx } from '../domain/ports.ts'
import { REASON, type Reason } from '../domain/reasons.ts'
import { EVERY_ORDER } from '../events/order-feed.consumer.ts'
import { orderStatus, orderToProto } from '../proto/order-mapper.ts'

const MAX_PENDING = 1000
const QUEUE_LIMIT = 200

type Item = { kind: 'command'; request: BaristaSessionRequest } | { kind: 'change'; change: OrderChange }

/** The session's own refusals and the order refusals a command can meet, as the rejections the contract names. */
const SESSION_REJECTION: Record<SessionRejection, Reject> = {
  not_joined: Reject.REASON_NOT_JOINED,
  already_joined: Reject.REASON_ALREADY_JOINED,
  invalid_command: Reject.REASON_INVALID_COMMAND,
}
const REJECTION: Partial<Record<Reason, Reject>> = {
  [REASON.alreadyClaimed]: Reject.REASON_ALREADY_CLAIMED,
  [REASON.notClaimedByYou]: Reject.REASON_NOT_CLAIMED_BY_YOU,
  [REASON.statusMismatch]: Reject.REASON_STATUS_MISMATCH,
  [REASON.orderCancelled]: Reject.REASON_ORDER_CANCELLED,
  [REASON.illegalTransition]: Reject.REASON_ILLEGAL_TRANSITION,
  [REASON.queueEmpty]: Reject.REASON_QUEUE_EMPTY,
}

/** A command's failure as the rejection the contract names (by kind and AppError.reason); anything else (a dependency down) ends the stream. */
function rejection(err: unknown): { reason: Reject; message: string } {
  if (!(err instanceof AppError)) throw err
  if (err.kind === 'invalid')
    return { reason: Reject.REASON_INVALID_COMMAND, message: err.violations.map((v) => `${v.field} ${v.description}`).join('; ') }
  const reason = err.kind === 'not_found' ? Reject.REASON_ORDER_NOT_FOUND : err.reason ? REJECTION[err.reason as Reason] : undefined
  if (reason === undefined) throw err
  return { reason, message: err.message }
}

const rejected = (commandId: string, reason: Reject, message: string, order?: Order): BaristaSessionResponse => ({
  commandId,
  event: { $case: 'rejected', value: { reason, message, order: order && orderToProto(order) } },
})

/** A request as the session's state machine reads it. */
function messageOf(request: BaristaSessionRequest) {
  const c = request.command
  const command: BaristaCommand | undefined =
    c?.$case === 'join'
      ? { kind: 'join', baristaId: c.value.baristaId, displayName: c.value.displayName }
      : c?.$case === 'claim'
        ? { kind: 'claim', orderId: c.value.orderId }
        : c?.$case === 'advance'
          ? { kind: 'advance', orderId: c.value.orderId, expected: orderStatus.from(c.value.expectedStatus) }
          : c?.$case === 'release'
            ? { kind: 'release', orderId: c.value.orderId, reason: c.value.reason }
            : c?.$case === 'refresh'
              ? { kind: 'refresh' }
              : undefined
  return { commandId: request.commandId, command, violations: messageViolations(request).map((v) => v.field) }
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

/** The command was answered on another stream while this one applied it: this transaction rolls back. */
class AnsweredElsewhere extends Error {}

/**
 * Runs a claim, advance or release; its answer is saved in the transaction of its effect, so the
 * answer exists exactly when the effect does.
 */
async function run(
  deps: OrderDeps,
  barista: Actor,
  commandId: string,
  command: Extract<SessionStep, { do: 'run' }>['command'],
): Promise<BaristaSessionResponse> {
  let response: BaristaSessionResponse | undefined
  const answer =
    <T>(respond: (outcome: T) => BaristaSessionResponse['event']) =>
    async (tx: OrderTx, outcome: T) => {
      response = { commandId, event: respond(outcome) }
      const saved = await tx.saveCommandAnswer(barista.id, commandId, BaristaSessionResponse.encode(response).finish())
      if (!saved) throw new AnsweredElsewhere()
    }
  if (command.kind === 'claim') {
    await claimOrder(
      deps,
      barista,
      command.orderId,
      answer((order: Order) => ({ $case: 'claimed', value: { order: orderToProto(order), baristaId: barista.id } })),
    )
  } else if (command.kind === 'advance') {
    await advanceOrder(deps, barista, command.orderId, command.expected, {
      holder: barista.id,
      field: 'order_id',
      then: answer(({ order, previous }: Advanced) =>
        order.status === 'completed'
          ? { $case: 'removed', value: { order: orderToProto(order), reason: Removed.REASON_COMPLETED } }
          : { $case: 'advanced', value: { order: orderToProto(order), previousStatus: orderStatus.to(previous) } },
      ),
    })
  } else {
    await releaseOrder(
      deps,
      barista,
      command.orderId,
      command.reason,
      answer((order: Order) => ({ $case: 'released', value: { order: orderToProto(order), baristaId: barista.id } })),
    )
  }
  return response!
}

/** The answer a command got before (on this stream or an earlier one, from any replica), if any. */
async function earlierAnswer(deps: OrderDeps, baristaId: string, commandId: string): Promise<BaristaSessionResponse | undefined> {
  const earlier = await deps.store.commandAnswer(baristaId, commandId)
  return earlier && BaristaSessionResponse.decode(earlier)
}

/** A command's answer: the earlier one, or the effect with its answer, or the refusal (saved too, so a resend gets it again). */
async function answerTo(
  deps: OrderDeps,
  barista: Actor,
  commandId: string,
  command: Extract<SessionStep, { do: 'run' }>['command'],
): Promise<BaristaSessionResponse> {
  const earlier = await earlierAnswer(deps, barista.id, commandId)
  if (earlier) return earlier
  try {
    return await run(deps, barista, commandId, command)
  } catch (err) {
    if (err instanceof AnsweredElsewhere) return (await earlierAnswer(deps, barista.id, commandId))!
    const { reason, message } = rejection(err)
    // The order as it is now, when the command named one that exists (the contract's `order`).
    const current = isUuid(command.orderId) ? await deps.store.order(command.orderId.toLowerCase()) : undefined
    const response = rejected(commandId, reason, message, current)
    const saved = await deps.store.saveCommandAnswer(barista.id, commandId, BaristaSessionResponse.encode(response).finish())
    return saved ? response : ((await earlierAnswer(deps, barista.id, commandId)) ?? response)
  }
}

/**
 * Bidirectional: the barista queue. After join: the queue (snapshot), then the orders this barista
 * holds (resumed, also after a reconnect to any replica); then one answer per command and pushes of
 * what other baristas and the payment processor do. Claims are conditional updates in PostgreSQL,
 * so two baristas never hold one order; every order version reaches the stream once. A message
 * that breaks the contract (the route delivers it with its violations) is answered rejected
 * INVALID_COMMAND and the session goes on (domain/barista.ts).
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
  const snapshot = async (commandId: string): Promise<BaristaSessionResponse> => {
    const queue = await deps.store.queue(QUEUE_LIMIT)
    queue.forEach(fresh)
    return { commandId, event: { $case: 'snapshot', value: { queue: queue.map(orderToProto), asOf: deps.clock() } } }
  }
  let joined: Actor | undefined
  let unsubscribe = () => {}
  void (async () => {
    for await (const request of requests) items.push({ kind: 'command', request })
    items.close()
  })().catch((err: unknown) => items.close(err instanceof Error ? err : new Error(String(err))))

  try {
    for await (const item of items) {
      if (item.kind === 'change') {
        if (!joined) continue
        const event = push(item.change, joined.id)
        if (event && fresh(item.change.order)) yield { commandId: '', event }
        continue
      }
      const message = messageOf(item.request)
      const step = sessionStep(joined !== undefined, message)
      const commandId = answerId(message.commandId)
      if (step.do === 'reject') {
        yield rejected(commandId, SESSION_REJECTION[step.rejection], step.message)
      } else if (step.do === 'join') {
        const id = step.baristaId || staff.id
        if (id !== staff.id) throw permissionDenied(`a token for ${staff.id} cannot join as another barista`)
        joined = { ...staff, displayName: step.displayName }
        unsubscribe = changes.subscribe(EVERY_ORDER, (change) => void items.push({ kind: 'change', change }))
        await changes.live() // the snapshot is read once the feed delivers what follows it
        yield await snapshot(commandId)
        const claimed = await deps.store.claimedBy(id)
        claimed.forEach(fresh)
        yield { commandId, event: { $case: 'resumed', value: { baristaId: id, claimedOrders: claimed.map(orderToProto) } } }
      } else if (step.do === 'refresh') {
        yield await snapshot(commandId)
      } else {
        const response = await answerTo(deps, joined!, commandId, step.command)
        const event = response.event
        if (event && event.$case !== 'rejected' && 'order' in event.value) {
          // The order version this answer carries is sent; a push of the same version is not.
          const order = event.value.order
          if (order) sent.set(order.id, Math.max(sent.get(order.id) ?? 0, order.version))
        }
        yield response
      }
    }
  } finally {
    unsubscribe()
    items.close()
  }
}
