import { Status, Payment, CancelCode } from './codes.ts'
import { createHash } from 'node:crypto'
import type { Actor } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import type { Order, OrderStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { aborted, AppError, invalid, notFound, precondition, Violations } from '@brewmesh/runtime/errors'
import { isUuid } from './ids.ts'
import { CANCELLABLE, ENTERED_AT, isFinal, NEXT_STATUS, statusName } from './lifecycle.ts'
import type { OrderDeps, OrderQuery, OrderTx } from './ports.ts'

export function requireUuid(value: string, field: string): void {
  new Violations().check(isUuid(value), field, value ? 'must be a UUID' : 'is required').throwIfAny()
}

export async function getOrder(deps: OrderDeps, id: string): Promise<Order> {
  requireUuid(id, 'id')
  const order = await deps.store.order(id.toLowerCase())
  if (!order) throw notFound('order', id)
  return order
}

/** The next version of an order: status (with its timestamp) and whatever else changed. */
function next(order: Order, now: Date, changes: Partial<Order>): Order {
  const status = changes.status ?? order.status
  const entered = status !== order.status ? { [ENTERED_AT[status as keyof typeof ENTERED_AT]]: now } : {}
  return { ...order, ...changes, ...entered, version: order.version + 1, updatedAt: now }
}

async function locked(tx: OrderTx, id: string): Promise<Order> {
  const order = await tx.order(id, 'for_update')
  if (!order) throw notFound('order', id)
  return order
}

/**
 * Moves an order one step (PAID → PREPARING → READY → COMPLETED). expected_status (when set) must
 * be the current status, so a double tap does not advance twice: ABORTED otherwise.
 */
export async function advanceOrder(deps: OrderDeps, by: Actor, id: string, expected: OrderStatus, baristaId?: string): Promise<Order> {
  requireUuid(id, 'id')
  return deps.store.transaction(async (tx) => {
    const order = await locked(tx, id.toLowerCase())
    if (expected && order.status !== expected)
      throw aborted(`order ${order.id} is ${statusName(order.status)}, not ${statusName(expected)}`)
    const to = NEXT_STATUS[order.status]
    if (!to) throw precondition(`an order that is ${statusName(order.status)} cannot be advanced`)
    // Through a barista session only the barista holding the order advances it.
    if (baristaId !== undefined && order.baristaId !== baristaId) throw precondition(`order ${order.id} is not held by ${baristaId}`)
    const updated = next(order, deps.clock(), { status: to })
    await tx.update(updated)
    if (to === Status.COMPLETED) await tx.record({ kind: 'completed', order: updated, by })
    else await tx.record({ kind: 'status_changed', order: updated, previous: order.status, by })
    return updated
  })
}

/** Cancels from PLACED, PAID or PREPARING; an approved payment is refunded, a pending one voided. */
export async function cancelOrder(deps: OrderDeps, by: Actor, id: string, reason: string): Promise<Order> {
  const v = new Violations()
  v.check(isUuid(id), 'id', 'must be a UUID')
  v.check([...reason].length <= 200, 'reason', 'at most 200 characters')
  v.throwIfAny()
  return deps.store.transaction(async (tx) => {
    const order = await locked(tx, id.toLowerCase())
    if (order.status === Status.CANCELLED) return order // a retried cancel changes nothing
    if (!CANCELLABLE.has(order.status)) throw precondition(`an order that is ${statusName(order.status)} cannot be cancelled`)
    const now = deps.clock()
    const payment = order.payment && {
      ...order.payment,
      ...(order.payment.status === Payment.APPROVED
        ? { status: Payment.REFUNDED, refundedAmount: order.payment.amount, refundedAt: now }
        : order.payment.status === Payment.PENDING
          ? { status: Payment.VOIDED }
          : {}),
    }
    const code = by.kind === 2 ? CancelCode.STAFF_REQUEST : CancelCode.CUSTOMER_REQUEST
    const updated = next(order, now, {
      status: Status.CANCELLED,
      cancelReason: reason,
      cancelReasonCode: code,
      cancelledBy: by,
      payment,
    })
    await tx.update(updated)
    await tx.record({ kind: 'cancelled', order: updated, previous: order.status, by })
    return updated
  })
}

const SYSTEM_PAYMENTS: Actor = { kind: 4, id: 'payment-processor', displayName: '' }

/**
 * The mock processor's decision for an order: approved for `successRate` of orders, decided by a
 * hash of the order id so a retried job (or a test) always gets the same answer.
 */
export function approves(orderId: string, successRate: number): boolean {
  const bucket = createHash('sha256').update(orderId).digest().readUInt32BE(0) / 0x1_0000_0000
  return bucket < successRate
}

/** Applies the processor's answer once: PLACED → PAID, or CANCELLED (PAYMENT_DECLINED). A cancelled order's payment is voided. */
export async function processPayment(deps: OrderDeps, orderId: string): Promise<Order | undefined> {
  return deps.store.transaction(async (tx) => {
    const order = await tx.order(orderId, 'for_update')
    if (!order || order.payment?.status !== Payment.PENDING) return undefined // answered before, or voided
    const now = deps.clock()
    const approved = approves(order.id, deps.payment.successRate)
    const reference = `mock-${order.id.slice(0, 8)}`
    const payment = {
      ...order.payment,
      status: approved ? Payment.APPROVED : Payment.DECLINED,
      processorReference: reference,
      declineReason: approved ? '' : 'card declined by the issuer',
      processedAt: now,
    }
    if (approved) {
      const paid = next(order, now, { status: Status.PAID, payment })
      await tx.update(paid)
      await tx.record({ kind: 'payment_processed', order: paid, approved: true })
      return paid
    }
    const cancelled = next(order, now, {
      status: Status.CANCELLED,
      payment,
      cancelReason: payment.declineReason,
      cancelReasonCode: CancelCode.PAYMENT_DECLINED,
      cancelledBy: SYSTEM_PAYMENTS,
    })
    await tx.update(cancelled)
    await tx.record({ kind: 'payment_processed', order: cancelled, approved: false })
    await tx.record({ kind: 'cancelled', order: cancelled, previous: order.status, by: SYSTEM_PAYMENTS })
    return cancelled
  })
}

/** A barista claims a paid order: it moves to PREPARING under their name. Two baristas never hold one order. */
export async function claimOrder(deps: OrderDeps, barista: Actor, id: string): Promise<Order> {
  requireUuid(id, 'order_id')
  return deps.store.transaction(async (tx) => {
    const order = await tx.claimable(id.toLowerCase())
    if (!order) {
      const current = await tx.order(id.toLowerCase())
      if (!current) throw notFound('order', id)
      if (current.baristaId) throw new AppError('already_exists', `order ${current.id} is already claimed by ${current.baristaId}`)
      throw precondition(`an order that is ${statusName(current.status)} cannot be claimed`)
    }
    const now = deps.clock()
    // A paid order starts PREPARING; a released one (already PREPARING) only gets its barista.
    const claimed = next(order, now, { status: Status.PREPARING, baristaId: barista.id, claimedAt: now })
    await tx.update(claimed)
    await tx.record({ kind: 'assignment_changed', order: claimed, previousBaristaId: '', reason: 'claimed' })
    if (order.status !== claimed.status) await tx.record({ kind: 'status_changed', order: claimed, previous: order.status, by: barista })
    return claimed
  })
}

/** A barista gives a claimed order back: it returns to the queue, still PREPARING, unclaimed. */
export async function releaseOrder(deps: OrderDeps, barista: Actor, id: string, reason: string): Promise<Order> {
  requireUuid(id, 'order_id')
  return deps.store.transaction(async (tx) => {
    const order = await locked(tx, id.toLowerCase())
    if (order.baristaId !== barista.id) throw precondition(`order ${order.id} is not held by ${barista.id}`)
    if (order.status !== Status.PREPARING) throw precondition(`an order that is ${statusName(order.status)} cannot be released`)
    const released = next(order, deps.clock(), { baristaId: '', claimedAt: undefined })
    await tx.update(released)
    await tx.record({ kind: 'assignment_changed', order: released, previousBaristaId: barista.id, reason: reason || 'released' })
    return released
  })
}

export interface ListInput {
  pageSize: number
  pageToken: string
  customerId: string
  householdId: string
  statuses: OrderStatus[]
  placedAfter: Date | undefined
  placedBefore: Date | undefined
}

interface PageToken {
  f: string
  t: number
  i: string
}

export async function listOrders(deps: OrderDeps, input: ListInput): Promise<{ orders: Order[]; nextPageToken: string }> {
  const v = new Violations()
  v.check(input.pageSize >= 0 && input.pageSize <= 100, 'page_size', 'must be 0 to 100')
  if (input.customerId) v.check(isUuid(input.customerId), 'customer_id', 'must be a UUID')
  if (input.householdId) v.check(isUuid(input.householdId), 'household_id', 'must be a UUID')
  v.throwIfAny()
  const filters = JSON.stringify([input.customerId, input.householdId, input.statuses, input.placedAfter, input.placedBefore])
  let after: PageToken | undefined
  if (input.pageToken) {
    try {
      after = JSON.parse(Buffer.from(input.pageToken, 'base64url').toString('utf8')) as PageToken
    } catch {
      after = undefined
    }
    if (after?.f !== filters) throw invalid([{ field: 'page_token', description: 'is not a page token of these filters' }])
  }
  const limit = input.pageSize || 50
  const query: OrderQuery = {
    limit: limit + 1,
    after: after && { placedAt: new Date(after.t), id: after.i },
    customerId: input.customerId.toLowerCase() || undefined,
    householdId: input.householdId.toLowerCase() || undefined,
    statuses: input.statuses,
    placedAfter: input.placedAfter,
    placedBefore: input.placedBefore,
  }
  const rows = await deps.store.orders(query)
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  const more = rows.length > limit && last
  return {
    orders: page,
    nextPageToken: more ? Buffer.from(JSON.stringify({ f: filters, t: last.placedAt!.getTime(), i: last.id })).toString('base64url') : '',
  }
}

export { isFinal }
