/**
 * In-process fan-out by key: what one replica consumed (an event, a rollup result) handed to the
 * open streams of that replica that follow the key (a customer, an order, a household). Every
 * live-stream feature has one: WatchOrder, WatchAccount, WatchFavorites, ActivityFeed, statistics.
 */
export class FanOut<V> {
  private readonly byKey = new Map<string, Set<(value: V) => void>>()
  /** Wake the per-replica feeds behind this fan-out that paused for want of listeners. */
  private readonly wakeFeeds: (() => Promise<void>)[] = []

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
    if (this.wakeFeeds.length > 0) void this.live()
    return () => {
      set.delete(listener)
      // Only remove the entry this subscription created: a later subscriber may own a new set.
      if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key)
    }
  }

  /**
   * Resolves once the feed behind this fan-out delivers what happens from now on: at once, unless
   * it stopped fetching while nobody listened (runtime kafka/idle-feed.ts), then once it fetches
   * again from the topics' end. A stream with a snapshot subscribes, awaits this, then reads it;
   * one without (ActivityFeed) acknowledges its subscription only then.
   */
  live(): Promise<void> {
    if (this.wakeFeeds.length === 0) return Promise.resolve()
    return Promise.all(this.wakeFeeds.map((wake) => wake())).then(() => undefined)
  }

  /**
   * Called by each feed that fills this fan-out and pauses while it is empty (it is their
   * Audience); returns how that feed, once stopped, is forgotten.
   */
  feedBy(wake: () => Promise<void>): () => void {
    this.wakeFeeds.push(wake)
    return () => {
      const at = this.wakeFeeds.indexOf(wake)
      if (at >= 0) this.wakeFeeds.splice(at, 1)
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
