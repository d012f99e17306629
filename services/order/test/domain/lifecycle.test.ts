import { describe, expect, it } from 'vitest'
import { AppError } from '@brewmesh/runtime/errors'
import * as lifecycle from '../../src/domain/lifecycle.ts'
import type { Actor, Order, OrderStatus } from '../../src/domain/order.ts'
import { placedOrder, T0 } from './fixtures.ts'

const NOW = new Date(T0.getTime() + 60_000)
const SAM: Actor = { kind: 'staff', id: 'sam', displayName: 'Sam' }
const ADA: Actor = { kind: 'customer', id: 'ada', displayName: '' }
const STATUSES: OrderStatus[] = ['placed', 'paid', 'preparing', 'ready', 'completed', 'cancelled']

/** An order in `status`, held by `baristaId`, its payment as that status implies. */
function inStatus(status: OrderStatus, baristaId = status === 'preparing' || status === 'ready' ? 'sam' : ''): Order {
  const o = placedOrder()
  const paid = status !== 'placed'
  return {
    ...o,
    status,
    baristaId,
    payment: {
      ...o.payment,
      status: status === 'placed' ? 'pending' : status === 'cancelled' ? 'voided' : 'approved',
      processedAt: paid ? T0 : undefined,
    },
    version: STATUSES.indexOf(status) + 1,
  }
}

/** What a step did: the status it led to, 'unchanged', or the reason (or kind) of its refusal. */
function outcome(step: () => Order | undefined | lifecycle.Advance): string {
  try {
    const r = step()
    if (r === undefined) return 'unchanged'
    // An Advance (it has the status it moved from), or the order after the step.
    if ('previous' in r) return r.kind === 'unchanged' ? 'unchanged' : r.order.status
    return r.status
  } catch (err) {
    if (!(err instanceof AppError)) throw err
    return err.reason ?? err.kind
  }
}

describe('the lifecycle: every status × every command', () => {
  // Columns: advance from the status itself (by the holder), cancel, approve, decline, claim, release (by the holder).
  const table: [OrderStatus, string, string, string, string, string, string][] = [
    ['placed', 'STATUS_MISMATCH', 'cancelled', 'paid', 'cancelled', 'ILLEGAL_TRANSITION', 'NOT_CLAIMED_BY_YOU'],
    ['paid', 'preparing', 'cancelled', 'unchanged', 'unchanged', 'preparing', 'NOT_CLAIMED_BY_YOU'],
    ['preparing', 'ready', 'cancelled', 'unchanged', 'unchanged', 'ALREADY_CLAIMED', 'preparing'],
    ['ready', 'completed', 'ILLEGAL_TRANSITION', 'unchanged', 'unchanged', 'ALREADY_CLAIMED', 'ILLEGAL_TRANSITION'],
    ['completed', 'STATUS_MISMATCH', 'ILLEGAL_TRANSITION', 'unchanged', 'unchanged', 'ILLEGAL_TRANSITION', 'NOT_CLAIMED_BY_YOU'],
    ['cancelled', 'ORDER_CANCELLED', 'unchanged', 'unchanged', 'unchanged', 'ORDER_CANCELLED', 'NOT_CLAIMED_BY_YOU'],
  ]
  it.each(table)('%s: advance %s, cancel %s, approve %s, decline %s, claim %s, release %s', (status, adv, can, ok, no, cla, rel) => {
    const order = inStatus(status)
    const expected = status === 'placed' || status === 'completed' || status === 'cancelled' ? 'paid' : status
    expect(outcome(() => lifecycle.advance(order, expected, NOW, order.baristaId || undefined))).toBe(adv)
    expect(outcome(() => lifecycle.cancel(order, ADA, 'changed my mind', NOW))).toBe(can)
    expect(outcome(() => lifecycle.pay(order, true, NOW))).toBe(ok)
    expect(outcome(() => lifecycle.pay(order, false, NOW))).toBe(no)
    expect(outcome(() => lifecycle.claim(order, { ...SAM, id: 'kim' }, NOW))).toBe(cla)
    expect(outcome(() => lifecycle.release(order, SAM, NOW))).toBe(rel)
  })

  it('every change is the next version, with the time it entered its status', () => {
    const paid = lifecycle.pay(inStatus('placed'), true, NOW)!
    expect(paid).toMatchObject({ version: 2, status: 'paid', entered: { placed: T0, paid: NOW }, updatedAt: NOW })
    const claimed = lifecycle.claim(paid, SAM, NOW)
    expect(claimed).toMatchObject({ version: 3, status: 'preparing', baristaId: 'sam', claimedAt: NOW, entered: { preparing: NOW } })
  })
})

describe('advance: expected_status as the caller sees it', () => {
  it.each<[OrderStatus, OrderStatus, string]>([
    ['paid', 'paid', 'preparing'],
    ['preparing', 'paid', 'unchanged'], // a retry: the next status is reached
    ['ready', 'preparing', 'unchanged'],
    ['completed', 'ready', 'unchanged'],
    ['ready', 'paid', 'STATUS_MISMATCH'], // two steps on: not a retry
    ['paid', 'preparing', 'STATUS_MISMATCH'], // behind the caller
    ['cancelled', 'preparing', 'ORDER_CANCELLED'],
  ])('an order %s advanced from %s: %s', (status, expected, result) => {
    expect(outcome(() => lifecycle.advance(inStatus(status, ''), expected, NOW))).toBe(result)
  })

  it.each<OrderStatus>(['placed', 'completed', 'cancelled'])('from %s is INVALID_ARGUMENT expected_status', (expected) => {
    expect(outcome(() => lifecycle.advance(inStatus('paid'), expected, NOW))).toBe('invalid')
  })

  it('through a barista session only the holder advances, also for a retry', () => {
    expect(outcome(() => lifecycle.advance(inStatus('preparing', 'sam'), 'preparing', NOW, 'kim'))).toBe('NOT_CLAIMED_BY_YOU')
    expect(outcome(() => lifecycle.advance(inStatus('ready', 'sam'), 'preparing', NOW, 'kim'))).toBe('NOT_CLAIMED_BY_YOU')
    expect(outcome(() => lifecycle.advance(inStatus('ready', 'sam'), 'preparing', NOW, 'sam'))).toBe('unchanged')
  })
})

describe('cancel and pay', () => {
  it.each([
    ['placed: the pending payment is voided', 'placed', { status: 'voided' }],
    ['paid: the approved payment is refunded in full', 'paid', { status: 'refunded', refundedAmount: 563, refundedAt: NOW }],
  ] as const)('%s', (_, status, payment) => {
    const cancelled = lifecycle.cancel(inStatus(status), SAM, 'out of oat milk', NOW)
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelCode: 'staff_request', cancelledBy: SAM, payment })
  })

  it('a customer cancelling is a customer request', () => {
    expect(lifecycle.cancel(inStatus('paid'), ADA, '', NOW)?.cancelCode).toBe('customer_request')
  })

  it('a declined payment cancels the order, by the payment processor', () => {
    expect(lifecycle.pay(inStatus('placed'), false, NOW)).toMatchObject({
      status: 'cancelled',
      cancelCode: 'payment_declined',
      cancelledBy: lifecycle.PAYMENT_PROCESSOR,
      payment: { status: 'declined', processedAt: NOW },
    })
  })

  it('a released order goes back to the queue, still preparing, unclaimed', () => {
    const released = lifecycle.release(inStatus('preparing'), SAM, NOW)
    expect(released).toMatchObject({ status: 'preparing', baristaId: '', claimedAt: undefined })
    expect(lifecycle.claimable(released)).toBe(true)
    expect(lifecycle.claim(released, { ...SAM, id: 'kim' }, NOW)).toMatchObject({ status: 'preparing', baristaId: 'kim' })
  })
})
