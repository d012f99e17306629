import { describe, expect, it } from 'vitest'
import type { Cart } from '../src/domain/model.ts'
import { quoteCart } from '../src/domain/quote.ts'
import { cartViolations } from '../src/domain/validation.ts'
import { account, reward, RULES } from './domain-fixtures.ts'

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' })

function cart(items: [string, number, number][], chosenRewardIds: string[] = []): Cart {
  const lines = items.map(([category, price, quantity], i) => ({
    lineId: `l${i + 1}`,
    menuItemId: `${category}-${i + 1}`,
    name: category,
    category,
    quantity,
    unitPrice: usd(price),
    lineTotal: usd(price * quantity),
  }))
  return { items: lines, subtotal: usd(lines.reduce((s, l) => s + l.lineTotal.amountMinor, 0)), chosenRewardIds }
}

const FREE = reward({ id: 'free', name: 'Free drink', kind: 'free_drink', costPoints: 100, eligibleCategories: ['espresso'] })
const DOLLAR = reward({ id: 'dollar', name: '1.00 off', kind: 'amount_off', costPoints: 40, amountOff: usd(100) })
const TEN = reward({
  id: 'ten',
  name: '10 % off',
  kind: 'percent_off',
  costPoints: 80,
  percentOff: 10,
  maxDiscount: usd(500),
  minSubtotal: usd(1000),
})
const CATALOG = [DOLLAR, TEN, FREE]

describe('quoting a cart', () => {
  it('gives a free drink as the most expensive eligible unit, and a second one the next unit', () => {
    const q = quoteCart(
      RULES,
      account({ balance: 500 }),
      CATALOG,
      cart(
        [
          ['espresso', 450, 1],
          ['espresso', 520, 1],
          ['bakery', 900, 1],
        ],
        ['free', 'free'],
      ),
    )
    expect(q.chosen.map((c) => [c.applicable, c.discount.amountMinor, c.lineIds])).toEqual([
      [true, 520, ['l2']],
      [true, 450, ['l1']],
    ])
    expect(q.totalDiscount).toEqual(usd(970))
    expect(q.pointsRequired).toBe(200)
  })

  it('applies chosen rewards in order on the points the earlier ones left', () => {
    const q = quoteCart(RULES, account({ balance: 120 }), CATALOG, cart([['espresso', 450, 2]], ['free', 'dollar']))
    expect(q.chosen[0]).toMatchObject({ applicable: true, discount: usd(450) })
    expect(q.chosen[1]).toMatchObject({ applicable: false, issue: 'insufficient_points' })
    expect(q.pointsRequired).toBe(100)
  })

  it('reports why a reward does not apply instead of failing', () => {
    const small = cart([['espresso', 450, 1]], ['ten', 'missing'])
    const q = quoteCart(RULES, account({ balance: 1000 }), CATALOG, small)
    expect(q.chosen.map((c) => c.issue)).toEqual(['min_subtotal_not_met', 'reward_not_found'])
    const bakery = quoteCart(RULES, account({ balance: 1000 }), CATALOG, cart([['bakery', 300, 1]], ['free']))
    expect(bakery.chosen[0]?.issue).toBe('no_eligible_item')
    const closed = quoteCart(RULES, account({ balance: 1000, status: 'closed' }), CATALOG, cart([['espresso', 300, 1]], ['free']))
    expect(closed.chosen[0]?.issue).toBe('account_closed')
  })

  it('rounds percent discounts down, caps them, and never discounts more than the subtotal', () => {
    const q = quoteCart(RULES, account({ balance: 1000 }), CATALOG, cart([['espresso', 1005, 1]], ['ten']))
    expect(q.chosen[0]?.discount).toEqual(usd(100)) // 100.5 rounded down
    const capped = quoteCart(RULES, account({ balance: 1000 }), CATALOG, cart([['espresso', 10_000, 1]], ['ten']))
    expect(capped.chosen[0]?.discount).toEqual(usd(500))
    const tiny = quoteCart(RULES, account({ balance: 1000 }), CATALOG, cart([['espresso', 80, 1]], ['free', 'dollar']))
    expect(tiny.chosen[1]).toMatchObject({ applicable: false, issue: 'nothing_left_to_discount' })
    expect(tiny.totalDiscount).toEqual(usd(80))
  })

  it('suggests affordable rewards not chosen, largest discount first', () => {
    const q = quoteCart(RULES, account({ balance: 1000 }), CATALOG, cart([['espresso', 600, 2]]))
    expect(q.chosen).toEqual([])
    expect(q.suggestions.map((s) => [s.rewardId, s.discount.amountMinor])).toEqual([
      ['free', 600],
      ['ten', 120],
      ['dollar', 100],
    ])
    const poor = quoteCart(RULES, account({ balance: 50 }), CATALOG, cart([['espresso', 600, 2]]))
    expect(poor.suggestions.map((s) => s.rewardId)).toEqual(['dollar'])
  })
})

describe('cart validation', () => {
  it('reports every problem with its field path', () => {
    const bad = cart(
      [
        ['espresso', 450, 2],
        ['espresso', 300, 0],
      ],
      ['not-a-uuid'],
    )
    bad.items[0]!.lineTotal = usd(1)
    bad.items[1]!.lineId = 'l1'
    const fields = cartViolations(bad).list.map((v) => v.field)
    expect(fields).toEqual(
      expect.arrayContaining([
        'cart.items[0].line_total',
        'cart.items[1].line_id',
        'cart.items[1].quantity',
        'cart.subtotal',
        'cart.chosen_reward_ids[0]',
      ]),
    )
    expect(cartViolations(cart([['espresso', 450, 1]])).list).toEqual([])
    expect(cartViolations({ items: [], subtotal: usd(0), chosenRewardIds: [] }).list.map((v) => v.field)).toEqual(['cart.items'])
  })
})
