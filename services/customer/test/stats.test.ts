import { describe, expect, it } from 'vitest'
import { aggregate, factsOf, mergeAggregates, newestFacts, statsOf, type OrderFact, type OrderSnapshot } from '../src/domain/stats.ts'

const [PAYER, KID, PARTNER] = [
  '00000000-0000-4000-8000-00000000000a',
  '00000000-0000-4000-8000-00000000000b',
  '00000000-0000-4000-8000-00000000000c',
]
const LATTE = { menuItemId: 'latte', name: 'Caffè Latte' }
const COCOA = { menuItemId: 'cocoa', name: 'Hot Cocoa' }

const groupOrder = (overrides: Partial<OrderSnapshot> = {}): OrderSnapshot => ({
  orderId: 'order-1',
  payerId: PAYER,
  placedAt: new Date('2026-11-23T09:15:00Z'),
  status: 'completed',
  paidMinor: 1800,
  currency: 'USD',
  version: 5,
  lines: [
    { memberId: PAYER, ...LATTE, quantity: 1 },
    { memberId: KID, ...COCOA, quantity: 2 },
    { memberId: PARTNER, ...LATTE, quantity: 1 },
    { memberId: KID, ...COCOA, quantity: 1 },
  ],
  ...overrides,
})
const statsFor = (customerId: string, snapshots: OrderSnapshot[]) =>
  statsOf(customerId, aggregate(snapshots.flatMap(factsOf).filter((f) => f.customerId === customerId)), new Date())

describe('what a group order gives each customer', () => {
  it('counts each drink for the member it was for, the order for everyone in it, and the money for the payer', () => {
    const order = groupOrder()
    expect(statsFor(PAYER, [order])).toMatchObject({
      ordersPlaced: 1,
      ordersCompleted: 1,
      totalSpentMinor: 1800,
      topDrinks: [{ ...LATTE, count: 1 }],
    })
    expect(statsFor(KID, [order])).toMatchObject({
      ordersPlaced: 1,
      ordersCompleted: 1,
      totalSpentMinor: 0,
      averageOrderValueMinor: 0,
      topDrinks: [{ ...COCOA, count: 3 }],
      peakTimes: [{ weekday: 1, hour: 9, orders: 1 }],
    })
    expect(statsFor(PARTNER, [order]).topDrinks).toEqual([{ ...LATTE, count: 1 }])
  })

  it('still counts the order and the money for a payer who had no drink in it', () => {
    const order = groupOrder({ lines: [{ memberId: KID, ...COCOA, quantity: 1 }] })
    expect(factsOf(order).map((f) => f.customerId)).toEqual([PAYER, KID])
    expect(statsFor(PAYER, [order])).toMatchObject({ ordersPlaced: 1, totalSpentMinor: 1800, averageOrderValueMinor: 1800, topDrinks: [] })
  })

  it('keeps only the newest version of an order for each customer', () => {
    const placed = factsOf(groupOrder({ status: 'placed', version: 1, paidMinor: 0 }))
    const completed = factsOf(groupOrder())
    const newest = newestFacts([...completed, ...placed])
    expect(newest).toHaveLength(3)
    expect(new Set(newest.map((f) => f.status))).toEqual(new Set(['completed']))
  })
})

describe('adding facts up', () => {
  const fact = (overrides: Partial<OrderFact>): OrderFact => ({
    orderId: 'o',
    customerId: PAYER,
    placedAt: new Date('2026-11-23T09:15:00Z'),
    status: 'completed',
    spentMinor: 0,
    currency: 'USD',
    drinks: [],
    version: 1,
    ...overrides,
  })
  const archived = aggregate([fact({ placedAt: new Date('2026-01-05T08:00:00Z'), spentMinor: 300, drinks: [{ ...LATTE, count: 1 }] })])

  it('counts orders by status, spend by paid order, drinks of completed orders and peaks, on top of the archive', () => {
    const live = [
      fact({ spentMinor: 450, drinks: [{ ...LATTE, count: 2 }] }),
      fact({ status: 'cancelled', placedAt: new Date('2026-11-24T15:00:00Z'), drinks: [{ ...COCOA, count: 1 }] }),
      fact({ status: 'paid', spentMinor: 500, placedAt: new Date('2026-11-23T09:40:00Z'), drinks: [{ ...COCOA, count: 1 }] }),
      fact({ drinks: [{ menuItemId: COCOA.menuItemId, name: '', count: 3 }] }),
    ]
    expect(aggregate(live, archived)).toEqual({
      ordersPlaced: 5,
      ordersCompleted: 3,
      ordersCancelled: 1,
      spentMinor: 1250,
      paidOrders: 3,
      currency: 'USD',
      drinks: [
        { ...LATTE, count: 3 },
        { ...COCOA, name: '', count: 3 },
      ],
      peaks: { '1:8': 1, '1:9': 3, '2:15': 1 },
      firstOrderAt: new Date('2026-01-05T08:00:00Z'),
      lastOrderAt: new Date('2026-11-24T15:00:00Z'),
    })
    // Archived months merge the same way: adding facts in two steps gives what one step does.
    expect(mergeAggregates(archived, aggregate(live))).toEqual(aggregate(live, archived))
  })
})
