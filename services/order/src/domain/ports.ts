import type { Traced } from '@brewmesh/runtime/kafka'
import type { Actor, AppliedReward, DrinkCustomization, MenuItem, Order, OrderLine, OrderStatus } from './order.ts'

/** How an outbound call is bounded: the caller's deadline, so work stops when nobody waits. */
export interface CallBudget {
  deadline: Date | undefined
}

export interface CustomerInfo {
  id: string
  displayName: string
  householdId: string
  active: boolean
}

export interface UsualDrink {
  menuItemId: string
  customization: DrinkCustomization | undefined
  /** The pinned favorite it came from; empty for a learned usual. */
  favoriteId: string
}

/** A customer as the Customer service stated them at `version`; `deleted`: the deletion, a customer's last version. */
export interface CustomerFact extends CustomerInfo {
  version: number
  deleted: boolean
}

/** A customer as this service knows them, and whether the Customer service was asked just now. */
export interface KnownCustomer {
  /** undefined when there is no such customer. */
  customer: CustomerInfo | undefined
  /** true: the Customer service's answer of just now; false: as last heard, which may be moments behind. */
  asked: boolean
}

/** The customers an order is for. */
export interface Customers {
  /**
   * As this service last heard of them from the customer events (moments behind a change while Kafka
   * flows), or asked of the Customer service when it has heard nothing of them yet.
   */
  known(customerId: string, budget: CallBudget): Promise<KnownCustomer>
  /** Asked of the Customer service now: what a refusal is decided on. undefined when there is no such customer. */
  current(customerId: string, budget: CallBudget): Promise<CustomerInfo | undefined>
}

/** The customer facts this service keeps. */
export interface CustomerFacts {
  /** The last fact heard of a customer, a deletion included; undefined when none was. */
  heard(customerId: string): Promise<CustomerFact | undefined>
  /** Keeps each fact unless one of the same or a higher version, or the customer's deletion, is kept already. */
  learn(facts: readonly CustomerFact[]): Promise<void>
  /**
   * A consumer's chunk: keeps the facts of the events it had not applied, in one transaction that
   * records their event ids; answers how many events were new.
   */
  applyEvents(consumer: string, events: readonly HeardFact[]): Promise<number>
}

/** A customer event's fact, with the event's id. */
export interface HeardFact {
  eventId: string
  fact: CustomerFact
}

/** The Favorites service: "my usual". */
export interface Favorites {
  /** undefined when the customer has no usual. */
  usual(customerId: string, budget: CallBudget): Promise<UsualDrink | undefined>
}

/** What the Loyalty service prices a reward against: the order's lines, as placed. */
export interface Cart {
  lines: readonly OrderLine[]
  currency: string
}

/** A reservation as the Loyalty service answered it: its redemption and claim (1, or more once a retry got it back). */
export interface Claimed {
  redemptionId: string
  claim: number
}

/** The Loyalty service: reserves points for a reward against an order (idempotent by request id). */
export interface Loyalty {
  redeem(
    request: { requestId: string; customerId: string; rewardId: string; orderId: string; cart: Cart },
    budget: CallBudget,
  ): Promise<{ reward: AppliedReward; claim: number }>
  /**
   * Gives back reservations of an order that could not be placed: those named, each only while its
   * claim is still the one named (a retry of the placement that got it back since keeps it);
   * resolves with how many were released.
   */
  release(request: { customerId: string; orderId: string; reason: string; only: Claimed[] }, budget: CallBudget): Promise<number>
}

/** A change to an order, recorded as an order event in the transaction that made it. `at`: when. */
export type OrderChange = { order: Order; at: Date } & (
  | { kind: 'placed' }
  | { kind: 'payment_processed'; approved: boolean }
  | { kind: 'status_changed'; previous: OrderStatus; by: Actor }
  | { kind: 'completed'; by: Actor }
  | { kind: 'cancelled'; previous: OrderStatus; by: Actor }
  | { kind: 'assignment_changed'; previousBaristaId: string; reason: string }
)

export interface OrderQuery {
  limit: number
  after: { placedAt: Date; id: string } | undefined
  customerId: string | undefined
  householdId: string | undefined
  statuses: OrderStatus[]
  placedAfter: Date | undefined
  placedBefore: Date | undefined
}

/** An order stored under its idempotency key, with the hash of the request that placed it. */
export interface Placement {
  order: Order
  requestHash: string
}

export interface OrderTx {
  order(id: string, lock?: 'for_update'): Promise<Order | undefined>
  update(order: Order): Promise<void>
  /** Stores the new state of each of these orders, with one statement. */
  updateAll(orders: readonly Order[]): Promise<void>
  /** Records a change as an order event in the outbox, in this transaction (the events of a transaction are written together before it commits). */
  record(change: OrderChange): Promise<void>
  /** Locks a queued (paid or released), unclaimed order; undefined when it is not claimable (someone was first). */
  claimable(id: string): Promise<Order | undefined>
  /** Saves the answer to a barista's command with its effect; false when the command was answered already. */
  saveCommandAnswer(baristaId: string, commandId: string, answer: Uint8Array): Promise<boolean>
  /**
   * Locks up to `limit` orders whose payment is still pending, placed before `before`, oldest first;
   * orders another transaction holds are skipped. Each runs its answer in its placement's trace.
   */
  duePayments(before: Date, limit: number): Promise<Traced<Order>[]>
}

export interface OrderStore {
  transaction<T>(work: (tx: OrderTx) => Promise<T>): Promise<T>
  /**
   * Stores a new order and records its placement as an order event, atomically; returns the order
   * already stored under its customer's request id (or its id) instead, if any, and records nothing.
   */
  place(order: Order, requestHash: string, placed: OrderChange): Promise<Placement | undefined>
  order(id: string): Promise<Order | undefined>
  /** The order a customer placed with this idempotency key. */
  byRequestId(customerId: string, requestId: string): Promise<Placement | undefined>
  orders(query: OrderQuery): Promise<Order[]>
  /** The barista queue: paid orders and released preparing ones, nobody holding them, oldest payment first. */
  queue(limit: number): Promise<Order[]>
  /** Orders a barista holds (preparing or ready, claimed by them). */
  claimedBy(baristaId: string): Promise<Order[]>
  menuItem(id: string): Promise<MenuItem | undefined>
  menu(): Promise<MenuItem[]>
  /** The answer given to a barista's command (encoded by the session), if it was answered before. */
  commandAnswer(baristaId: string, commandId: string): Promise<Uint8Array | undefined>
  /** Saves the answer to a command that changed nothing (a refusal); false when it was answered already. */
  saveCommandAnswer(baristaId: string, commandId: string, answer: Uint8Array): Promise<boolean>
  /** Forgets command answers older than `before`. */
  purgeCommandAnswers(before: Date): Promise<number>
}

export interface PaymentSettings {
  /** 0 to 1: the share of payments the mock processor approves. */
  successRate: number
  delayMs: number
}

export interface OrderDeps {
  store: OrderStore
  customers: Customers
  favorites: Favorites
  loyalty: Loyalty
  clock: () => Date
  newId: () => string
  taxRateBps: number
  currency: string
  payment: PaymentSettings
}
