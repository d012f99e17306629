import { describe, expect, it } from 'vitest'
import { MAX_AMOUNT, type Cart } from '../src/domain/model.ts'
import { percentOf } from '../src/domain/quote.ts'
import { pointsForAmount } from '../src/domain/rules.ts'
import { cartViolations, parsePoints } from '../src/domain/validation.ts'
import { RULES } from './domain-fixtures.ts'

// Points and amounts are JS numbers: every value stays within 2^53 - 1 and is computed exactly.
const exact = (amount: number, perUnit: number, percent: number) => Number((BigInt(amount) * BigInt(perUnit) * BigInt(percent)) / 10_000n)

describe('points within 2^53 - 1', () => {
  it('parses an adjustment from -(2^53 - 1) to 2^53 - 1 and nothing past it', () => {
    expect(parsePoints('9007199254740991')).toBe(MAX_AMOUNT)
    expect(parsePoints('-9007199254740991')).toBe(-MAX_AMOUNT)
    expect(parsePoints('9007199254740992')).toBeUndefined()
    expect(parsePoints('-9007199254740993')).toBeUndefined()
    expect(parsePoints('99999999999999999')).toBeUndefined()
  })

  it('earns exactly on large totals (the product passes 2^53 long before the points do), and never past the maximum', () => {
    // Totals where floating-point arithmetic rounds the product and lands one point off.
    for (const total of [9_007_199_254_740_979, 9_007_199_254_740_973])
      expect(pointsForAmount(RULES, total, 'gold')).toBe(exact(total, 10, 150))
    expect(pointsForAmount(RULES, MAX_AMOUNT, 'bronze')).toBe(exact(MAX_AMOUNT, 10, 100))
    const generous = { ...RULES, pointsPerCurrencyUnit: 10_000 }
    expect(pointsForAmount(generous, MAX_AMOUNT, 'gold')).toBe(MAX_AMOUNT)
  })

  it('takes a percentage of any amount up to the maximum exactly, rounded down', () => {
    // Amounts where floor(amount x percent / 100) in floating point is one off.
    for (const [amount, percent] of [
      [9_007_199_254_740_980, 10],
      [9_007_199_254_740_971, 25],
      [MAX_AMOUNT - 99, 99],
      [1999, 10],
      [0, 100],
    ] as const) {
      expect(percentOf(amount, percent)).toBe(Number((BigInt(amount) * BigInt(percent)) / 100n))
    }
  })
})

describe('cart amounts within 2^53 - 1', () => {
  const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' })
  const cartOf = (unit: number, quantity: number, lineTotal = unit * quantity, subtotal = lineTotal): Cart => ({
    items: [{ lineId: 'l1', menuItemId: 'm1', name: 'n', category: 'c', quantity, unitPrice: usd(unit), lineTotal: usd(lineTotal) }],
    subtotal: usd(subtotal),
    chosenRewardIds: [],
  })

  it('accepts amounts up to the maximum', () => {
    expect(cartViolations(cartOf(MAX_AMOUNT, 1)).list).toEqual([])
  })

  it('refuses amounts past it, and a line total the product passes, naming the fields', () => {
    const past = MAX_AMOUNT + 2 // not exact as a number: what a client's int64 beyond 2^53 reads as
    expect(cartViolations(cartOf(past, 1, past, past)).list.map((v) => v.field)).toEqual([
      'cart.items[0].unit_price',
      'cart.items[0].line_total',
      'cart.subtotal',
    ])
    // 2 x (2^52 + 1) is 2^53 + 2: past the maximum, so no line total within it can equal it.
    const half = 4_503_599_627_370_497
    expect(cartViolations(cartOf(half, 2, MAX_AMOUNT, MAX_AMOUNT)).list.map((v) => v.field)).toEqual(['cart.items[0].line_total'])
  })

  it('refuses a subtotal when the line totals add up past the maximum', () => {
    const two: Cart = {
      items: ['l1', 'l2'].map((lineId) => ({
        lineId,
        menuItemId: 'm',
        name: 'n',
        category: 'c',
        quantity: 1,
        unitPrice: usd(MAX_AMOUNT),
        lineTotal: usd(MAX_AMOUNT),
      })),
      subtotal: usd(MAX_AMOUNT),
      chosenRewardIds: [],
    }
    expect(cartViolations(two).list.map((v) => v.field)).toEqual(['cart.subtotal'])
  })
})
