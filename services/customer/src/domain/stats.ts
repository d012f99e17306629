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

/**
 * Adds aggregates and facts up: the one place that says what each contributes. It accumulates in
 * place, so a customer's facts cost no aggregate (maps, arrays) per fact; rollups add up hundreds
 * of customers' facts at a time.
 */
class Tally {
  private readonly sum: Omit<StatsAggregate, 'drinks' | 'peaks'> = {
    ordersPlaced: 0,
    ordersCompleted: 0,
    ordersCancelled: 0,
    spentMinor: 0,
    paidOrders: 0,
    currency: '',
    firstOrderAt: undefined,
    lastOrderAt: undefined,
  }
  private readonly drinks = new Map<string, DrinkTally>()
  private readonly peaks: Record<string, number> = {}

  add(a: StatsAggregate): this {
    const s = this.sum
    s.ordersPlaced += a.ordersPlaced
    s.ordersCompleted += a.ordersCompleted
    s.ordersCancelled += a.ordersCancelled
    s.spentMinor += a.spentMinor
    s.paidOrders += a.paidOrders
    s.currency ||= a.currency
    for (const d of a.drinks) this.drink(d)
    for (const [k, n] of Object.entries(a.peaks)) this.peaks[k] = (this.peaks[k] ?? 0) + n
    s.firstOrderAt = earlier(s.firstOrderAt, a.firstOrderAt)
    s.lastOrderAt = later(s.lastOrderAt, a.lastOrderAt)
    return this
  }

  /** One fact. Drinks count for completed orders (what the customer actually had). */
  addFact(f: OrderFact): this {
    const s = this.sum
    s.ordersPlaced += 1
    if (f.status === 'completed') {
      s.ordersCompleted += 1
      for (const d of f.drinks) this.drink(d)
    }
    if (f.status === 'cancelled') s.ordersCancelled += 1
    s.spentMinor += f.spentMinor
    if (f.spentMinor > 0) s.paidOrders += 1
    s.currency ||= f.currency
    const key = `${f.placedAt.getUTCDay()}:${f.placedAt.getUTCHours()}`
    this.peaks[key] = (this.peaks[key] ?? 0) + 1
    s.firstOrderAt = earlier(s.firstOrderAt, f.placedAt)
    s.lastOrderAt = later(s.lastOrderAt, f.placedAt)
    return this
  }

  result(): StatsAggregate {
    return { ...this.sum, drinks: [...this.drinks.values()], peaks: { ...this.peaks } }
  }

  private drink(d: DrinkTally): void {
    const seen = this.drinks.get(d.menuItemId)
    this.drinks.set(d.menuItemId, { menuItemId: d.menuItemId, name: d.name || seen?.name || '', count: (seen?.count ?? 0) + d.count })
  }
}

/** Two aggregates as one (archived months, then live facts): every figure adds up. */
export const mergeAggregates = (a: StatsAggregate, b: StatsAggregate): StatsAggregate => new Tally().add(a).add(b).result()

/** One fact as an aggregate. */
export const aggregateOf = (f: OrderFact): StatsAggregate => new Tally().addFact(f).result()

/** Facts added to a start (the archived months): the same as merging aggregateOf of each, one by one. */
export const aggregate = (facts: readonly OrderFact[], start: StatsAggregate = EMPTY_AGGREGATE): StatsAggregate =>
  facts.reduce((tally, f) => tally.addFact(f), new Tally().add(start)).result()

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
