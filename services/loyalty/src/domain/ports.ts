import type { Account, EntryKind, LedgerEntry, LoyaltyChange, Redemption, Reward } from './model.ts'
import type { LoyaltyRules } from './rules.ts'

/** Per-order facts from the order events, so out-of-order completion and cancellation end right. */
export interface OrderState {
  orderId: string
  customerId: string
  /** placed: the order showed up (its reservations are no longer stranded); then completed or cancelled. */
  state: 'placed' | 'completed' | 'cancelled'
  /** The EARN entry of its completion, if points were earned. */
  earnEntryId: string | null
  updatedAt: Date
}

export interface RedemptionContext {
  /** The customer's account, locked; undefined when there is none (and then nothing else is read). */
  account: Account | undefined
  state: OrderState | undefined
  ofOrder: Redemption[]
  byRequest: Redemption | undefined
}

/** What use cases need inside one transaction, implemented by db/loyalty-store.ts. */
export interface LoyaltyTx {
  /** With lock, the row stays locked to the end of the transaction: one writer per account. */
  account(customerId: string, lock?: boolean): Promise<Account | undefined>
  /**
   * Locks the existing accounts of these customers to the end of the transaction, in id order:
   * two transactions locking some of the same accounts never wait on each other in a cycle.
   * Returns the customers whose account exists.
   */
  lockAccounts(customerIds: readonly string[]): Promise<Set<string>>
  insertAccount(account: Account): Promise<void>
  updateAccount(account: Account): Promise<void>
  /**
   * Appends the entry and, only when it was appended, stores the account and writes the changes to
   * the outbox, at once (one statement). False when an entry with the same (customer, kind, source)
   * exists: nothing is written. With `redemption`, that redemption is inserted or updated in the
   * same statement, appended or not (as if written just before).
   */
  postEntry(
    entry: LedgerEntry,
    account: Account,
    changes: readonly LoyaltyChange[],
    redemption?: { redemption: Redemption; write: 'insert' | 'update' },
  ): Promise<boolean>
  entryBySource(customerId: string, kind: EntryKind, sourceId: string): Promise<LedgerEntry | undefined>
  entry(id: string): Promise<LedgerEntry | undefined>
  /** The order's redemptions (not voided), locked, oldest first. */
  redemptionsOfOrder(orderId: string): Promise<Redemption[]>
  /** The customer's RESERVED redemptions, locked. */
  reservedRedemptions(customerId: string): Promise<Redemption[]>
  /**
   * What a redemption for an order checks, in one read, all locked, the account first: the
   * customer's account, the order's state, its redemptions (not voided, oldest first) and, with a
   * request id, the redemption (not voided) made under it, of whichever order. With no account,
   * only that: no state, no redemptions.
   */
  redemptionContext(customerId: string, orderId: string, requestId?: string): Promise<RedemptionContext>
  redemptionsByRequestPrefix(prefix: string): Promise<Redemption[]>
  insertRedemption(redemption: Redemption): Promise<void>
  /** A placement asked for these RESERVED redemptions again (a retry): one more claim each, their hold restarts at `at`. */
  claimRedemptions(ids: string[], at: Date): Promise<void>
  /** Marks released redemptions void: kept as history, left out of every look-up, request ids free again. */
  voidRedemptions(ids: string[]): Promise<void>
  orderState(orderId: string): Promise<OrderState | undefined>
  saveOrderState(state: OrderState): Promise<void>
  /** Marks these orders placed, each unless it has a state already (one statement). */
  markPlaced(orders: readonly { orderId: string; customerId: string }[], at: Date): Promise<void>
  /**
   * Records that a consumer applied these events (one statement); returns the items to apply:
   * those whose event was not applied before, each event once, in order.
   */
  claimEvents<T>(consumer: string, items: readonly T[], eventIdOf: (item: T) => string): Promise<T[]>
  /** Claims one reward-available notification; false when it was sent before. */
  claimNotification(customerId: string, rewardId: string, entryId: string): Promise<boolean>
  /** Writes the change to the outbox, in this transaction. */
  record(change: LoyaltyChange): Promise<void>
}

export interface EntryQuery {
  customerId: string
  limit: number
  kinds: EntryKind[]
  orderId: string | undefined
  createdAfter: Date | undefined
  createdBefore: Date | undefined
  /** Position of the last entry of the previous page (newest first). */
  before: { createdAt: Date; id: string } | undefined
}

export interface LoyaltyStore {
  transaction<T>(work: (tx: LoyaltyTx) => Promise<T>): Promise<T>
  account(customerId: string): Promise<Account | undefined>
  entries(query: EntryQuery): Promise<LedgerEntry[]>
  entry(id: string): Promise<LedgerEntry | undefined>
  /** The whole catalog, cheapest first (cost, then name). */
  rewards(): Promise<Reward[]>
  /** RESERVED redemptions last claimed before the cut-off whose order never showed up on the order topic. */
  strandedRedemptions(claimedBefore: Date, limit: number): Promise<Redemption[]>
  /** Open accounts with a positive balance whose last activity is before the cut-off. */
  inactiveAccounts(cutoff: Date, limit: number): Promise<string[]>
}

/** A balance that rose over a reward's cost: one reward-available notification to send. */
export interface Crossing {
  customerId: string
  rewardId: string
  entryId: string
}

/** The Order Service, which alone knows whether an order was stored. */
export interface OrderLookup {
  /** True when the order exists, false when it does not; rejects when the answer is unknown. */
  exists(orderId: string): Promise<boolean>
}

export interface LoyaltyDeps {
  store: LoyaltyStore
  orders: OrderLookup
  rules: LoyaltyRules
  clock: () => Date
  newId: () => string
  /** Called after commit with the crossings a change made (enqueues reward-available jobs). */
  announce: (crossings: Crossing[]) => Promise<void>
}
