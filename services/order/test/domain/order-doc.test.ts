import { describe, expect, it } from 'vitest'
import { Order as OrderMessage } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { convert } from '../../src/db/migrations/0003_order_documents.ts'
import { orderFromDoc, orderToDoc } from '../../src/db/order-doc.ts'
import type { Order } from '../../src/domain/order.ts'
import { orderFromProto, orderToProto } from '../../src/proto/order-mapper.ts'
import { line, PAYER, placedOrder, T0 } from './fixtures.ts'

const MEMBER = '22222222-2222-4222-8222-222222222222'
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)

/** An order that has been through most of what can happen to one: group, reward, payment, claim, cancel. */
const eventful: Order = placedOrder({
  kind: 'group',
  householdId: '33333333-3333-4333-8333-333333333333',
  status: 'cancelled',
  lines: [line('0a0a0a0a-0000-4000-8000-0000000000a1', PAYER, 520), line('0a0a0a0a-0000-4000-8000-0000000000a2', MEMBER, 900, 2)],
  subtotal: 1420,
  discount: 100,
  tax: 109,
  total: 1429,
  appliedRewards: [
    { rewardId: 'r1', redemptionId: 'red1', rewardName: 'A dollar off', discount: 100, pointsCost: '9007199254740993', lineIds: [] },
  ],
  payment: {
    status: 'refunded',
    amount: 1429,
    processorReference: 'mock-0a0a0a0a',
    declineReason: '',
    refundedAmount: 1429,
    processedAt: later(1),
    refundedAt: later(5),
  },
  memberBreakdowns: [
    { memberCustomerId: PAYER, displayName: 'Ada', lineIds: ['a1'], itemCount: 1, subtotal: 520, discount: 37, tax: 40, total: 523 },
    { memberCustomerId: MEMBER, displayName: 'Bo', lineIds: ['a2'], itemCount: 2, subtotal: 900, discount: 63, tax: 69, total: 906 },
  ],
  note: 'name on cup',
  baristaId: 'staff-1',
  claimedAt: later(2),
  cancelReason: 'changed my mind',
  cancelCode: 'customer_request',
  cancelledBy: { kind: 'customer', id: PAYER, displayName: '' },
  version: 5,
  entered: { placed: T0, paid: later(1), preparing: later(2), cancelled: later(5) },
  updatedAt: later(5),
})

describe('an order kept in orders.doc', () => {
  it.each([
    ['a placed order', placedOrder()],
    ['a cancelled group order with a reward and a refund', eventful],
  ])('when %s is stored and read back, then it is the same order', (_, order) => {
    expect(orderFromDoc(JSON.parse(orderToDoc(order)))).toEqual(order)
  })

  it.each([
    ['a placed order', placedOrder()],
    ['a cancelled group order with a reward and a refund', eventful],
  ])('when %s was stored before 0003 (the contract JSON), then 0003 converts it to the same order', (_, order) => {
    const before = OrderMessage.toJSON(orderToProto(order)) as Record<string, unknown>
    const converted = JSON.parse(JSON.stringify(convert(before))) as unknown
    expect(orderFromDoc(converted)).toEqual(order)
  })

  it.each([
    ['a placed order', placedOrder()],
    ['a cancelled group order with a reward and a refund', eventful],
  ])('when %s is written in the old form after 0003 (a previous replica, mid-deploy), then it still reads the same', (_, order) => {
    const before = JSON.parse(JSON.stringify(OrderMessage.toJSON(orderToProto(order)))) as unknown
    expect(orderFromDoc(before)).toEqual(order)
  })

  it('when 0003 meets a document already in the new form, then it leaves it alone', () => {
    const doc = JSON.parse(orderToDoc(eventful)) as Record<string, unknown>
    expect(convert(doc)).toBe(doc)
  })

  it('when an order crosses an event, then it reads back the same', () => {
    expect(orderFromProto(orderToProto(eventful))).toEqual(eventful)
  })
})
