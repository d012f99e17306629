import { describe, expect, it } from 'vitest'
import { allocate, allocateWithin, taxOf } from '../../src/domain/money.ts'
import type { AppliedReward } from '../../src/domain/order.ts'
import { breakdowns, totals } from '../../src/domain/totals.ts'
import { line, PAYER } from './fixtures.ts'

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)

describe('tax: round half up of amount × bps / 10000, in integers', () => {
  it.each([
    [1040, 825, 86], // 85.8 → 86
    [520, 825, 43], // 42.9 → 43
    [200, 825, 17], // 16.5 → 17 (half up)
    [0, 825, 0],
    [999, 0, 0],
    [1, 5000, 1], // 0.5 → 1
  ])('%i at %i bps is %i', (amount, bps, tax) => {
    expect(taxOf(amount, bps)).toBe(tax)
  })
})

describe('allocate: shares in proportion that sum exactly to the amount', () => {
  it.each([
    [100, [1, 1, 1], 0, [34, 33, 33]],
    [100, [1, 1, 1], 2, [33, 33, 34]],
    [10, [0, 0], 1, [0, 10]],
    [7, [520, 900], 0, [3, 4]],
    [0, [5, 5], 0, [0, 0]],
    [1001, [1, 2, 3, 4], 0, [101, 200, 300, 400]],
  ])('%i over %j (remainder to %i) is %j', (amount, weights, remainderTo, shares) => {
    const got = allocate(amount, weights, remainderTo)
    expect(got).toEqual(shares)
    expect(sum(got)).toBe(amount)
  })
})

const MEMBER = '22222222-2222-4222-8222-222222222222'
const THIRD = '33333333-3333-4333-8333-333333333333'
const reward = (discount: number, lineIds: string[] = []): AppliedReward => ({
  rewardId: 'r',
  redemptionId: 'red',
  rewardName: 'reward',
  discount,
  pointsCost: '400',
  lineIds,
})

describe('order totals', () => {
  it.each([
    ['one line, no reward', [line('a', PAYER, 520)], [], { subtotal: 520, discount: 0, tax: 43, total: 563 }],
    [
      'two lines and a dollar off',
      [line('a', PAYER, 520), line('b', PAYER, 900, 2)],
      [reward(100)],
      { subtotal: 1420, discount: 100, tax: 109, total: 1429 },
    ],
    [
      'rewards worth more than the order: discount capped at the subtotal',
      [line('a', PAYER, 300)],
      [reward(250), reward(250)],
      { subtotal: 300, discount: 300, tax: 0, total: 0 },
    ],
  ])('%s', (_, lines, rewards, expected) => {
    expect(totals(lines, rewards, 825)).toEqual(expected)
  })
})

describe("a group order's member breakdowns sum exactly to the order's totals", () => {
  const cases = [
    ['no reward', [line('a', PAYER, 520), line('b', MEMBER, 465), line('c', THIRD, 333, 3)], []],
    [
      'an order-wide reward, shared in proportion',
      [line('a', PAYER, 520), line('b', MEMBER, 465), line('c', THIRD, 333, 3)],
      [reward(100)],
    ],
    ['a reward on one line: that member gets it', [line('a', PAYER, 520), line('b', MEMBER, 465)], [reward(465, ['b'])]],
    ['rewards beyond the subtotal', [line('a', PAYER, 100), line('b', MEMBER, 100)], [reward(150), reward(150, ['b'])]],
    ['awkward remainders', [line('a', PAYER, 1), line('b', MEMBER, 1), line('c', THIRD, 1)], [reward(1)]],
  ] as const

  it.each(cases)('%s', (_, lines, rewards) => {
    const order = totals(lines, rewards, 825)
    const shares = breakdowns(lines, rewards, 825, PAYER)
    for (const field of ['subtotal', 'discount', 'tax', 'total'] as const)
      expect(sum(shares.map((s) => s[field])), field).toBe(order[field])
    for (const s of shares) {
      expect(s.discount).toBeGreaterThanOrEqual(0)
      expect(s.discount).toBeLessThanOrEqual(s.subtotal)
      expect(s.total).toBe(s.subtotal - s.discount + s.tax)
    }
    expect(shares.map((s) => s.memberCustomerId)).toEqual([...new Set(lines.map((l) => l.memberCustomerId))])
  })

  it('a reward on one line goes to the member of that line', () => {
    const shares = breakdowns([line('a', PAYER, 520), line('b', MEMBER, 465)], [reward(465, ['b'])], 825, PAYER)
    expect(shares.map((s) => [s.memberCustomerId, s.discount])).toEqual([
      [PAYER, 0],
      [MEMBER, 465],
    ])
  })

  it('item counts are quantities, line ids are the member lines', () => {
    const shares = breakdowns([line('a', PAYER, 520), line('b', MEMBER, 930, 2), line('c', MEMBER, 465)], [], 825, PAYER)
    expect(shares.map((s) => [s.itemCount, s.lineIds])).toEqual([
      [1, ['a']],
      [3, ['b', 'c']],
    ])
  })
})

describe('allocateWithin: proportional shares under caps, summing exactly', () => {
  it.each([
    [300, [150, 150], [100, 200], 0, [100, 200]],
    [100, [1, 1, 1], [10, 100, 100], 0, [10, 45, 45]],
    [150, [100, 50], [200, 200], 0, [100, 50]],
    [3, [1, 1, 1], [1, 1, 1], 0, [1, 1, 1]],
  ])('%i over %j capped at %j', (amount, weights, caps, remainderTo, shares) => {
    const got = allocateWithin(amount, weights, caps, remainderTo)
    expect(got).toEqual(shares)
    expect(sum(got)).toBe(amount)
    got.forEach((s, i) => expect(s).toBeLessThanOrEqual(caps[i]!))
  })
})
