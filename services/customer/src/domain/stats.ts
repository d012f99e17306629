/**
 * Customer order statistics, as pure rules: what a customer's order facts (and the monthly
 * aggregates older facts were archived into) add up to. The rollup job only reads and writes.
 */

/**
 * What one order contributes to one customer's statistics, kept from its latest event (every
 * event carries the whole order). A group order gives one fact to the payer and one to every
 * member with a drink in it (factsOf).
 */
export interface OrderFact {
  orderId: string
  customerId: string
  placedAt: Date
  status: 'placed' | 'paid' | 'preparing' | 'ready' | 'completed' | 'cancelled'
  /** Approved and not refunded: counts as spent, for the payer only. */
  spentMinor: number
  currency: string
  /** This customer's drinks of the order, by menu item (quantity summed). */
  drinks: DrinkTally[]
  /** The order's version the fact was taken from; older events never overwrite newer ones. */
  version: number
}

/** An order as statistics read it from an order event. */
export interface OrderSnapshot {
  orderId: string
  /** The customer who placed and paid for it. */
  payerId: string
  placedAt: Date
  status: OrderFact['status']
  /** The approved (not refunded) payment; 0 without one. */
  paidMinor: number
  currency: string
  version: number
  lines: { memberId: string; menuItemId: string; name: string; quantity: number }[]
}

/**
 * What an order gives each customer's statistics. The order counts (placed, completed, cancelled,
 * peak times, first and last order) for the payer and for every member with a line; each drink
 * counts for the member it was for; the money spent counts for the payer, who paid.
 */
export function factsOf(order: OrderSnapshot): OrderFact[] {
  const drinksOf = new Map<string, Map<string, DrinkTally>>([[order.payerId, new Map()]])
  for (const line of order.lines) {
    const drinks = drinksOf.get(line.memberId) ?? new Map<string, DrinkTally>()
    const seen = drinks.get(line.menuItemId)
    drinks.set(line.menuItemId, { menuItemId: line.menuItemId, name: line.name, count: (seen?.count ?? 0) + line.quantity })
    drinksOf.set(line.memberId, drinks)
  }
  return [...drinksOf].map(([customerId, drinks]) => ({
    orderId: order.orderId,
    customerId,
    placedAt: order.placedAt,
    status: order.status,
    spentMinor: customerId === order.payerId ? order.paidMinor : 0,
    currency: order.currency,
    drinks: [...drinks.values()],
    version: order.version,
  }))
}

/** The facts one order event gives (every event carries the whole order), kept once per event id. */
export interface OrderEventFacts {
  eventId: string
  facts: OrderFact[]
}

/**
 * Facts as they replace the stored ones: per order and customer, only the newest version counts,
 * so a late older event never undoes a newer one (several events of an order in one chunk: the
 * newest).
 */
export function newestFacts(facts: readonly OrderFact[]): OrderFact[] {
  const newest = new Map<string, OrderFact>()
  for (const f of facts) {
    const key = `${f.customerId}|${f.orderId}`
    const seen = newest.get(key)
    if (!seen || f.version >= seen.version) newest.set(key, f)
  }
  return [...newest.values()]
}

export interface DrinkTally {
  menuItemId: string
  name: string
  count: number
}

/** Everything statistics need from a set of facts, in a form that adds up: one per customer and month when archived. */
export interface StatsAggregate {
  ordersPlaced: number
  ordersCompleted: number
  ordersCancelled: number
  spentMinor: number
  /** Orders with a payment that counts as spent (for the average). */
  paidOrders: number
  currency: string
  drinks: DrinkTally[]
  /** "weekday:hour" (UTC, 0 = Sunday) → orders placed. */
  peaks: Record<string, number>
  firstOrderAt: Date | undefined
  lastOrderAt: Date | undefined
}

export interface CustomerStats {
  customerId: string
  ordersPlaced: number
  ordersCompleted: number
  ordersCancelled: number
  totalSpentMinor: number
  averageOrderValueMinor: number
  currency: string
  topDrinks: DrinkTally[]
  peakTimes: { weekday: number; hour: number; orders: number }[]
  firstOrderAt: Date | undefined
  lastOrderAt: Date | undefined
  computedAt: Date
}

export const EMPTY_AGGREGATE: StatsAggregate = {
  ordersPlaced: 0,
  ordersCompleted: 0,
  ordersCancelled: 0,
  spentMinor: 0,
  paidOrders: 0,
  currency: '',
  drinks: [],
  peaks: {},
  firstOrderAt: undefined,
  lastOrderAt: undefined,
}

const earlier = (a: Date | undefined, b: Date | undefined) => (!a ? b : !b ? a : a < b ? a : b)
const later = (a: Date | undefined, b: Date | undefined) => (!a ? b : !b ? a : a > b ? a : b)

function mergeDrinks(a: readonly DrinkTally[], b: readonly DrinkTally[]): DrinkTally[] {
  const byItem = new Map<string, DrinkTally>()
  for (const d of [...a, ...b]) {
    const seen = byItem.get(d.menuItemId)
    byItem.set(d.menuItemId, { menuItemId: d.menuItemId, name: d.name || seen?.name || '', count: (seen?.count ?? 0) + d.count })
  }
  return [...byItem.values()]
}

/** Two aggregates as one (archived months, then live facts): every figure adds up. */
export function mergeAggregates(a: StatsAggregate, b: StatsAggregate): StatsAggregate {
  const peaks = { ...a.peaks }
  for (const [k, n] of Object.entries(b.peaks)) peaks[k] = (peaks[k] ?? 0) + n
  return {
    ordersPlaced: a.ordersPlaced + b.ordersPlaced,
    ordersCompleted: a.ordersCompleted + b.ordersCompleted,
    ordersCancelled: a.ordersCancelled + b.ordersCancelled,
    spentMinor: a.spentMinor + b.spentMinor,
    paidOrders: a.paidOrders + b.paidOrders,
    currency: a.currency || b.currency,
    drinks: mergeDrinks(a.drinks, b.drinks),
    peaks,
    firstOrderAt: earlier(a.firstOrderAt, b.firstOrderAt),
    lastOrderAt: later(a.lastOrderAt, b.lastOrderAt),
  }
}

/** One fact as an aggregate. Drinks count for completed orders (what the customer actually had). */
export function aggregateOf(f: OrderFact): StatsAggregate {
  const key = `${f.placedAt.getUTCDay()}:${f.placedAt.getUTCHours()}`
  return {
    ordersPlaced: 1,
    ordersCompleted: f.status === 'completed' ? 1 : 0,
    ordersCancelled: f.status === 'cancelled' ? 1 : 0,
    spentMinor: f.spentMinor,
    paidOrders: f.spentMinor > 0 ? 1 : 0,
    currency: f.currency,
    drinks: f.status === 'completed' ? f.drinks : [],
    peaks: { [key]: 1 },
    firstOrderAt: f.placedAt,
    lastOrderAt: f.placedAt,
  }
}

export const aggregate = (facts: readonly OrderFact[], start: StatsAggregate = EMPTY_AGGREGATE) =>
  facts.map(aggregateOf).reduce(mergeAggregates, start)

/** The statistics an aggregate gives: top five drinks (ties by name), peak hours busiest first. */
export function statsOf(customerId: string, a: StatsAggregate, computedAt: Date): CustomerStats {
  const topDrinks = [...a.drinks]
    .sort((x, y) => y.count - x.count || x.name.localeCompare(y.name) || x.menuItemId.localeCompare(y.menuItemId))
    .slice(0, 5)
  const peakTimes = Object.entries(a.peaks)
    .map(([k, orders]) => {
      const [weekday, hour] = k.split(':').map(Number)
      return { weekday: weekday ?? 0, hour: hour ?? 0, orders }
    })
    .sort((x, y) => y.orders - x.orders || x.weekday - y.weekday || x.hour - y.hour)
  return {
    customerId,
    ordersPlaced: a.ordersPlaced,
    ordersCompleted: a.ordersCompleted,
    ordersCancelled: a.ordersCancelled,
    totalSpentMinor: a.spentMinor,
    averageOrderValueMinor: a.paidOrders > 0 ? Math.round(a.spentMinor / a.paidOrders) : 0,
    currency: a.currency || 'USD',
    topDrinks,
    peakTimes,
    firstOrderAt: a.firstOrderAt,
    lastOrderAt: a.lastOrderAt,
    computedAt,
  }
}

/** The UTC month an order belongs to when archived, e.g. "2026-11". */
export const monthOf = (d: Date) => `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`
