import { invalid, precondition, type AppError } from '@brewmesh/runtime/errors'
import type { Actor, Order, OrderStatus, Payment } from './order.ts'
import { REASON } from './reasons.ts'

/**
 * The order lifecycle, as pure functions of an order (the use cases in orders.ts load, lock and
 * store it):
 *   placed    -> paid        the payment processor approves
 *   placed    -> cancelled   the processor declines, or CancelOrder
 *   paid      -> preparing   a barista claims it, or AdvanceOrder
 *   paid      -> cancelled   CancelOrder (the payment is refunded)
 *   preparing -> ready       AdvanceOrder / a barista's advance
 *   preparing -> cancelled   CancelOrder (the payment is refunded)
 *   ready     -> completed   AdvanceOrder / a barista's advance
 * completed and cancelled are final. Every change is a new version.
 */

/** What advancing moves an order to. */
export const NEXT: Readonly<Partial<Record<OrderStatus, OrderStatus>>> = { paid: 'preparing', preparing: 'ready', ready: 'completed' }

/** The statuses CancelOrder accepts. */
export const CANCELLABLE: ReadonlySet<OrderStatus> = new Set(['placed', 'paid', 'preparing'])

/** The barista queue: paid orders, and preparing orders a barista released. */
export const QUEUED: readonly OrderStatus[] = ['paid', 'preparing']

export const isFinal = (s: OrderStatus) => s === 'completed' || s === 'cancelled'

/** The payment processor, as the actor of what it decides. */
export const PAYMENT_PROCESSOR: Actor = { kind: 'system', id: 'payment-processor', displayName: '' }

/** The next version of an order: status (with when it entered it) and whatever else changed. */
export function next(order: Order, now: Date, changes: Partial<Order>): Order {
  const status = changes.status ?? order.status
  const entered = status === order.status ? order.entered : { ...order.entered, [status]: now }
  return { ...order, ...changes, entered, version: order.version + 1, updatedAt: now }
}

const refused = (reason: string, message: string) => precondition(message, reason)

/** The refusal of a command the order's status does not allow (a cancelled order says so). */
function illegal(order: Order, what: string): AppError {
  return order.status === 'cancelled'
    ? refused(REASON.orderCancelled, `order ${order.id} is cancelled`)
    : refused(REASON.illegalTransition, `an order that is ${order.status} cannot be ${what}`)
}

/** The statuses an advance names as the one the caller sees (expected_status). */
export const ADVANCEABLE: readonly OrderStatus[] = ['paid', 'preparing', 'ready']

/** An advance: the order moved one step (from `previous`), or a retry found it moved already (unchanged). */
export type Advance = { kind: 'advanced'; order: Order; previous: OrderStatus } | { kind: 'unchanged'; order: Order; previous: OrderStatus }

/**
 * One step forward (paid → preparing → ready → completed) from `expected`, the status the caller
 * sees. An order already in the status after `expected` is a retry: unchanged. Any other status
 * is a refusal the caller must not retry as is (STATUS_MISMATCH; ORDER_CANCELLED when cancelled).
 * `holder`: through a barista session only the barista holding the order advances it.
 */
export function advance(order: Order, expected: OrderStatus, now: Date, holder?: string): Advance {
  const to = NEXT[expected]
  if (!to) throw invalid([{ field: 'expected_status', description: 'must be PAID, PREPARING or READY' }])
  if (order.status !== expected && order.status !== to) {
    if (order.status === 'cancelled') throw illegal(order, 'advanced')
    throw refused(REASON.statusMismatch, `order ${order.id} is ${order.status}, not ${expected}`)
  }
  if (holder !== undefined && order.baristaId !== holder)
    throw refused(REASON.notClaimedByYou, `order ${order.id} is not held by this barista`)
  if (order.status === to) return { kind: 'unchanged', order, previous: expected }
  return { kind: 'advanced', order: next(order, now, { status: to }), previous: expected }
}

/** The payment of a cancelled order: an approved one refunded, a pending one voided. */
function cancelledPayment(payment: Payment, now: Date): Payment {
  if (payment.status === 'approved') return { ...payment, status: 'refunded', refundedAmount: payment.amount, refundedAt: now }
  if (payment.status === 'pending') return { ...payment, status: 'voided' }
  return payment
}

/**
 * Cancels from placed, paid or preparing; undefined when the order is cancelled already (a
 * retried cancel changes nothing).
 */
export function cancel(order: Order, by: Actor, reason: string, now: Date): Order | undefined {
  if (order.status === 'cancelled') return undefined
  if (!CANCELLABLE.has(order.status)) throw illegal(order, 'cancelled')
  return next(order, now, {
    status: 'cancelled',
    cancelReason: reason,
    cancelCode: by.kind === 'staff' ? 'staff_request' : 'customer_request',
    cancelledBy: by,
    payment: cancelledPayment(order.payment, now),
  })
}

/**
 * The processor's answer, applied once: approved makes a placed order paid; declined cancels it
 * (payment_declined). undefined when the payment was answered before or voided.
 */
export function pay(order: Order, approved: boolean, now: Date): Order | undefined {
  if (order.payment.status !== 'pending') return undefined
  const payment: Payment = {
    ...order.payment,
    status: approved ? 'approved' : 'declined',
    processorReference: `mock-${order.id.slice(0, 8)}`,
    declineReason: approved ? '' : 'card declined by the issuer',
    processedAt: now,
  }
  if (approved) return next(order, now, { status: 'paid', payment })
  return next(order, now, {
    status: 'cancelled',
    payment,
    cancelReason: payment.declineReason,
    cancelCode: 'payment_declined',
    cancelledBy: PAYMENT_PROCESSOR,
  })
}

/** Whether a barista may claim the order now: queued (paid, or released while preparing) and held by nobody. */
export const claimable = (order: Order) => QUEUED.includes(order.status) && !order.baristaId

/** A claim: a paid order starts preparing under the barista's name; a released one only gets its barista. */
export function claim(order: Order, barista: Actor, now: Date): Order {
  if (!claimable(order)) throw claimRefusal(order)
  return next(order, now, { status: 'preparing', baristaId: barista.id, claimedAt: now })
}

/** Why an order cannot be claimed. */
export function claimRefusal(order: Order): AppError {
  if (order.baristaId && !isFinal(order.status))
    return refused(REASON.alreadyClaimed, `order ${order.id} is already claimed by ${order.baristaId}`)
  return illegal(order, 'claimed')
}

/** A barista gives a claimed order back: it returns to the queue, still preparing, unclaimed. */
export function release(order: Order, barista: Actor, now: Date): Order {
  if (order.baristaId !== barista.id) throw refused(REASON.notClaimedByYou, `order ${order.id} is not held by this barista`)
  if (order.status !== 'preparing') throw illegal(order, 'released')
  return next(order, now, { baristaId: '', claimedAt: undefined })
}
