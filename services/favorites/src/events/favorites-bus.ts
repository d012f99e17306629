import type { FavoriteChange } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'

export type ChangeListener = (change: FavoriteChange) => void

/**
 * In-process fan-out of the favorites changes this replica consumed from the favorites topic, to
 * the open WatchFavorites and SyncFavorites streams. Every replica consumes the whole topic (its
 * own consumer group), so a stream sees changes made through any replica.
 */
export class FavoritesBus {
  private readonly byCustomer = new Map<string, Set<ChangeListener>>()

  publish(customerId: string, change: FavoriteChange): void {
    for (const listener of this.byCustomer.get(customerId) ?? []) listener(change)
  }

  /** Listens to one customer's changes; returns the unsubscribe function. */
  subscribe(customerId: string, listener: ChangeListener): () => void {
    let set = this.byCustomer.get(customerId)
    if (!set) this.byCustomer.set(customerId, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      // Only remove the entry this subscription created: a later subscriber may own a new set.
      if (set.size === 0 && this.byCustomer.get(customerId) === set) this.byCustomer.delete(customerId)
    }
  }

  get listenerCount(): number {
    let n = 0
    for (const set of this.byCustomer.values()) n += set.size
    return n
  }
}
