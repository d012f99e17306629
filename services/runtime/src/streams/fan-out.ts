/**
 * In-process fan-out by key: what one replica consumed (an event, a rollup result) handed to the
 * open streams of that replica that follow the key (a customer, an order, a household). Every
 * live-stream feature has one: WatchOrder, WatchAccount, WatchFavorites, ActivityFeed, statistics.
 */
export class FanOut<V> {
  private readonly byKey = new Map<string, Set<(value: V) => void>>()

  /** Hands `value` to every listener of any of `keys`, once each even when it follows several. */
  publish(keys: string | readonly string[], value: V): void {
    if (typeof keys === 'string') {
      for (const listener of this.byKey.get(keys) ?? []) listener(value)
      return
    }
    const seen = new Set<(value: V) => void>()
    for (const key of keys) {
      for (const listener of this.byKey.get(key) ?? []) {
        if (seen.has(listener)) continue
        seen.add(listener)
        listener(value)
      }
    }
  }

  /** Listens to one key; returns the unsubscribe function. */
  subscribe(key: string, listener: (value: V) => void): () => void {
    let set = this.byKey.get(key)
    if (!set) this.byKey.set(key, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      // Only remove the entry this subscription created: a later subscriber may own a new set.
      if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key)
    }
  }

  /** Whether anyone here follows anything (a feed can skip decoding what nobody reads). */
  get empty(): boolean {
    return this.byKey.size === 0
  }

  get listenerCount(): number {
    let n = 0
    for (const set of this.byKey.values()) n += set.size
    return n
  }
}
