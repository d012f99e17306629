import type { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'

export type AccountListener = (event: LoyaltyEvent) => void

/**
 * In-process fan-out of the loyalty events this replica consumed, to the open WatchAccount
 * streams. Every replica reads the whole topic (its own consumer group), so a stream sees
 * changes made through any replica.
 */
export class AccountBus {
  private readonly byCustomer = new Map<string, Set<AccountListener>>()

  publish(event: LoyaltyEvent): void {
    for (const listener of this.byCustomer.get(event.customerId) ?? []) listener(event)
  }

  /** Listens to one customer's events; returns the unsubscribe function. */
  subscribe(customerId: string, listener: AccountListener): () => void {
    let set = this.byCustomer.get(customerId)
    if (!set) this.byCustomer.set(customerId, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.byCustomer.get(customerId) === set) this.byCustomer.delete(customerId)
    }
  }
}
