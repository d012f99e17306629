import type { CustomerStats, OrderEventFacts, OrderFact, StatsAggregate } from './stats.ts'
import type { Address, Customer, CustomerChange, KnownEnums } from './customer.ts'

/** What use cases need from storage, implemented by db/customer-store.ts. */
export interface CustomerTx {
  customer(id: string, lock?: 'for_update'): Promise<Customer | undefined>
  /** The customer an import row matches: same email (case-insensitive), else same username. */
  matchForImport(email: string, username: string): Promise<Customer | undefined>
  /** Throws already_exists naming the field when email or username is taken. */
  insertCustomer(customer: Customer): Promise<void>
  updateCustomer(customer: Customer): Promise<void>
  deleteCustomer(id: string): Promise<void>
  address(id: string, lock?: 'for_update'): Promise<Address | undefined>
  insertAddress(address: Address): Promise<void>
  updateAddress(address: Address): Promise<void>
  deleteAddress(id: string): Promise<void>
  /**
   * Claims an idempotency key for a request. Returns the earlier claim when the key was
   * used before (the caller compares hashes), undefined when this call claimed it.
   */
  claimRequest(key: string, requestHash: string, customerId: string): Promise<{ requestHash: string; customerId: string } | undefined>
  /**
   * Runs work inside a savepoint: if it throws, only its own writes are rolled back and the
   * transaction goes on (an import's bad row among good ones).
   */
  savepoint<T>(work: () => Promise<T>): Promise<T>
  /** Records the change as an event in the outbox, in this transaction. */
  record(change: CustomerChange): Promise<void>
}

export interface CustomerPage {
  customers: Customer[]
  /** Position after the last customer, when more may follow. */
  next: { registeredAt: Date; id: string } | undefined
}

export interface CustomerQuery {
  limit: number
  after: { registeredAt: Date; id: string } | undefined
  householdId: string | undefined
  active: boolean | undefined
}

export interface CustomerStore {
  transaction<T>(work: (tx: CustomerTx) => Promise<T>): Promise<T>
  customer(id: string): Promise<Customer | undefined>
  customers(query: CustomerQuery): Promise<CustomerPage>
  addresses(customerId: string): Promise<Address[]>
}

/** Read-through cache of customers; failures are the adapter's to absorb. */
export interface CustomerCache {
  get(id: string): Promise<Customer | undefined>
  set(customer: Customer): Promise<void>
  delete(id: string): Promise<void>
}

export interface CustomerDeps {
  store: CustomerStore
  cache: CustomerCache
  clock: () => Date
  newId: () => string
  enums: KnownEnums
}

/** What a customer's statistics are computed from. */
export interface CustomerHistory {
  facts: OrderFact[]
  /** The archived months, added up. */
  archived: StatsAggregate
}

/** Order facts, monthly archives and rollup results, implemented by db/stats-store.ts. */
export interface StatsStore {
  /**
   * Records the facts of a chunk of order events in one transaction, each event once (its id
   * recorded in it); an older version of an order never overwrites a newer one. Returns the ids
   * of the events that were new.
   */
  recordFacts(consumer: string, events: readonly OrderEventFacts[]): Promise<ReadonlySet<string>>
  /** The facts and archived months of these customers, by customer (one read for all). */
  history(customerIds: readonly string[]): Promise<Map<string, CustomerHistory>>
  /** Stores rollup results (one write for all); a result computed earlier than the stored one is not stored. */
  saveStats(stats: readonly CustomerStats[]): Promise<void>
  stats(customerId: string): Promise<CustomerStats | undefined>
  /** Customers with facts, archives or statistics, in id order after `after`. */
  customers(after: string, limit: number): Promise<string[]>
  /** Moves the facts of orders placed before `before` into monthly aggregates; returns how many. */
  archiveBefore(before: Date, limit: number): Promise<number>
}
