import { createHash } from 'node:crypto'
import { AppError, notFound, precondition, Violations } from '@brewmesh/runtime/errors'
import { checkUuid, isUuid, uuidOf } from '@brewmesh/runtime/ids'
import { pageSize, pageTokens, positionOf } from '@brewmesh/runtime/paging'
import * as lifecycle from './lifecycle.ts'
import type { Actor, Order, OrderStatus } from './order.ts'
import type { OrderDeps, OrderTx } from './ports.ts'
import { REASON } from './reasons.ts'

export async function getOrder(deps: OrderDeps, id: string, field = 'id'): Promise<Order> {
  const order = await deps.store.order(uuidOf(id, field))
  if (!order) throw notFound('order', id)
  return order
}

async function locked(tx: OrderTx, id: string): Promise<Order> {
  const order = await tx.order(id, 'for_update')
  if (!order) throw notFound('order', id)
  return order
}

/** What an advance did: the order after it, the status it moved from, and whether it changed it. */
export interface Advanced {
  order: Order
  previous: OrderStatus
  changed: boolean
}

/**
 * Work done in the transaction of a change, after it (a barista session saves its answer there,
 * so the answer exists exactly when the effect does).
 */
export type InTransaction<T> = (tx: OrderTx, outcome: T) => Promise<void>

/**
 * Moves an order one step from `expected` (paid → preparing → ready → completed), recording the
 * change; a retry that finds the next status reached changes nothing. Through a barista session
 * (`holder`) only for the barista holding it.
 */
export async function advanceOrder(
  deps: OrderDeps,
  by: Actor,
  id: string,
  expected: OrderStatus | undefined,
  options: { holder?: string; field?: string; then?: InTransaction<Advanced> } = {},
): Promise<Advanced> {
  const v = new Violations()
  checkUuid(v, id, options.field ?? 'id')
  v.check(expected !== undefined && lifecycle.ADVANCEABLE.includes(expected), 'expected_status', 'must be PAID, PREPARING or READY')
  v.throwIfAny()
  return deps.store.transaction(async (tx) => {
    const order = await locked(tx, id.toLowerCase())
    const now = deps.clock()
    const step = lifecycle.advance(order, expected!, now, options.holder)
    const advanced = { order: step.order, previous: step.previous, changed: step.kind === 'advanced' }
    if (advanced.changed) {
      await tx.update(step.order)
      if (step.order.status === 'completed') await tx.record({ kind: 'completed', order: step.order, by, at: now })
      else await tx.record({ kind: 'status_changed', order: step.order, previous: order.status, by, at: now })
    }
    await options.then?.(tx, advanced)
    return advanced
  })
}

/** Cancels from placed, paid or preparing; an approved payment is refunded, a pending one voided. A retried cancel changes nothing. */
export async function cancelOrder(deps: OrderDeps, by: Actor, id: string, reason: string): Promise<Order> {
  const v = new Violations()
  checkUuid(v, id, 'id')
  v.check([...reason].length <= 200, 'reason', 'at most 200 characters')
  v.throwIfAny()
  return deps.store.transaction(async (tx) => {
    const order = await locked(tx, id.toLowerCase())
    const now = deps.clock()
    const cancelled = lifecycle.cancel(order, by, reason, now)
    if (!cancelled) return order
    await tx.update(cancelled)
    await tx.record({ kind: 'cancelled', order: cancelled, previous: order.status, by, at: now })
    return cancelled
  })
}

/**
 * The mock processor's decision for an order: approved for `successRate` of orders, decided by a
 * hash of the order id so a retried job (or a test) always gets the same answer.
 */
export function approves(orderId: string, successRate: number): boolean {
  const bucket = createHash('sha256').update(orderId).digest().readUInt32BE(0) / 0x1_0000_0000
  return bucket < successRate
}

/**
 * Applies the processor's answer once: placed → paid, or cancelled (payment declined). A cancelled
 * order's payment is voided. Records its events; the caller stores the answered order.
 */
async function answerPayment(deps: OrderDeps, tx: OrderTx, order: Order): Promise<Order | undefined> {
  const now = deps.clock()
  const approved = approves(order.id, deps.payment.successRate)
  const answered = lifecycle.pay(order, approved, now)
  if (!answered) return undefined // answered before, or voided
  await tx.record({ kind: 'payment_processed', order: answered, approved, at: now })
  if (!approved) await tx.record({ kind: 'cancelled', order: answered, previous: order.status, by: lifecycle.PAYMENT_PROCESSOR, at: now })
  return answered
}

/**
 * The mock processor's round: answers up to `limit` orders whose payment is due (placed at least
 * the processor's delay ago), oldest first, in one transaction. Replicas running rounds at once
 * never take the same order (the rows are locked, and held ones skipped), and an order is answered
 * once whatever happens (only a pending payment is answered). Returns the number of orders taken:
 * `limit` means more may be due.
 */
export async function processDuePayments(deps: OrderDeps, limit: number): Promise<{ taken: number; answered: Order[] }> {
  const dueBefore = new Date(deps.clock().getTime() - deps.payment.delayMs)
  return deps.store.transaction(async (tx) => {
    const due = await tx.duePayments(dueBefore, limit)
    const answered: Order[] = []
    for (const { value: order, inTrace } of due) {
      const paid = await inTrace(() => answerPayment(deps, tx, order))
      if (paid) answered.push(paid)
    }
    // The round's orders are stored together, like its events: one statement, not one per order.
    await tx.updateAll(answered)
    return { taken: due.length, answered }
  })
}

/** Queue heads a claim of "the next order" tries before it gives up (each may be claimed by someone else meanwhile). */
const HEADS_TRIED = 5

/**
 * A barista claims a queued order: it moves to preparing under their name. Two baristas never
 * hold one order. An empty id claims the first order of the queue (QUEUE_EMPTY when there is none).
 */
export async function claimOrder(deps: OrderDeps, barista: Actor, id: string, then?: InTransaction<Order>): Promise<Order> {
  if (id) return claim(deps, barista, uuidOf(id, 'order_id'), then)
  const heads = await deps.store.queue(HEADS_TRIED)
  for (const head of heads) {
    try {
      return await claim(deps, barista, head.id, then)
    } catch (err) {
      // Claimed by another barista since the queue was read: try the next.
      if (!(err instanceof AppError && err.reason === REASON.alreadyClaimed)) throw err
    }
  }
  throw precondition('the queue is empty', REASON.queueEmpty)
}

async function claim(deps: OrderDeps, barista: Actor, orderId: string, then?: InTransaction<Order>): Promise<Order> {
  return deps.store.transaction(async (tx) => {
    const order = await tx.claimable(orderId)
    if (!order) {
      const current = await tx.order(orderId)
      if (!current) throw notFound('order', orderId)
      throw lifecycle.claimRefusal(current)
    }
    const now = deps.clock()
    const claimed = lifecycle.claim(order, barista, now)
    await tx.update(claimed)
    await tx.record({ kind: 'assignment_changed', order: claimed, previousBaristaId: '', reason: 'claimed', at: now })
    if (order.status !== claimed.status)
      await tx.record({ kind: 'status_changed', order: claimed, previous: order.status, by: barista, at: now })
    await then?.(tx, claimed)
    return claimed
  })
}

/** A barista gives a claimed order back: it returns to the queue, still preparing, unclaimed. */
export async function releaseOrder(
  deps: OrderDeps,
  barista: Actor,
  id: string,
  reason: string,
  then?: InTransaction<Order>,
): Promise<Order> {
  const orderId = uuidOf(id, 'order_id')
  return deps.store.transaction(async (tx) => {
    const order = await locked(tx, orderId)
    const now = deps.clock()
    const released = lifecycle.release(order, barista, now)
    await tx.update(released)
    await tx.record({ kind: 'assignment_changed', order: released, previousBaristaId: barista.id, reason: reason || 'released', at: now })
    await then?.(tx, released)
    return released
  })
}

export interface ListInput {
  pageSize: number
  pageToken: string
  customerId: string
  householdId: string
  /** undefined: a value the contract does not define (refused). */
  statuses: readonly (OrderStatus | undefined)[]
  placedAfter: Date | undefined
  placedBefore: Date | undefined
}

/** Where a page of orders ends: newest first, so the next page is placed before it (ties by id). */
const orderPages = pageTokens((raw) => {
  const placedAt = positionOf.time(raw['t'])
  const id = positionOf.id(raw['i'])
  return placedAt && id && isUuid(id) ? { t: placedAt.getTime(), i: id } : undefined
})

/** Orders newest placed first, by customer, household, statuses and placement time: 1 to 100 a page, 0 means 50. */
export async function listOrders(deps: OrderDeps, input: ListInput): Promise<{ orders: Order[]; nextPageToken: string }> {
  const v = new Violations()
  if (input.customerId) checkUuid(v, input.customerId, 'customer_id')
  if (input.householdId) checkUuid(v, input.householdId, 'household_id')
  input.statuses.forEach((s, i) => v.check(s !== undefined, `statuses[${i}]`, 'is not an order status'))
  v.throwIfAny()
  const limit = pageSize(input.pageSize, 50, 100)
  const statuses = input.statuses.filter((s): s is OrderStatus => s !== undefined)
  const customerId = input.customerId.toLowerCase() || undefined
  const householdId = input.householdId.toLowerCase() || undefined
  const filters = [customerId, householdId, statuses, input.placedAfter?.getTime(), input.placedBefore?.getTime()]
  const after = orderPages.decode(input.pageToken, filters)
  const rows = await deps.store.orders({
    limit: limit + 1,
    after: after && { placedAt: new Date(after.t), id: after.i },
    customerId,
    householdId,
    statuses,
    placedAfter: input.placedAfter,
    placedBefore: input.placedBefore,
  })
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    orders: page,
    nextPageToken: rows.length > limit && last ? orderPages.encode({ t: last.entered.placed.getTime(), i: last.id }, filters) : '',
  }
}
