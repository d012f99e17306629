import type { Valkey } from '@brewmesh/runtime/valkey.ts'
import type { CustomerStats } from '../domain/stats.ts'

export type StatsListener = (stats: CustomerStats) => void

/**
 * Rollup results to every replica: the rollup job publishes on a Valkey channel, each replica's
 * subscriber connection hands them to its open WatchCustomerStats streams. A replica that is not
 * the one running the job still sees every update.
 */
export class StatsFeed {
  private readonly byCustomer = new Map<string, Set<StatsListener>>()
  private readonly channel: string
  private readonly publisher: Valkey

  constructor(channel: string, publisher: Valkey) {
    this.channel = channel
    this.publisher = publisher
  }

  /** Starts listening on the channel with a connection of its own (subscribers cannot run commands). */
  async listen(subscriber: Valkey): Promise<void> {
    subscriber.on('message', (channel: string, message: string) => {
      // Every rollup of every replica comes by: read only those someone here is watching.
      if (channel !== this.channel || this.byCustomer.size === 0) return
      const s = JSON.parse(message) as CustomerStats & { computedAt: string; firstOrderAt?: string; lastOrderAt?: string }
      const stats: CustomerStats = {
        ...s,
        computedAt: new Date(s.computedAt),
        firstOrderAt: s.firstOrderAt ? new Date(s.firstOrderAt) : undefined,
        lastOrderAt: s.lastOrderAt ? new Date(s.lastOrderAt) : undefined,
      }
      for (const listener of this.byCustomer.get(stats.customerId) ?? []) listener(stats)
    })
    await subscriber.subscribe(this.channel)
  }

  async publish(stats: CustomerStats): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify(stats))
  }

  subscribe(customerId: string, listener: StatsListener): () => void {
    let set = this.byCustomer.get(customerId)
    if (!set) this.byCustomer.set(customerId, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.byCustomer.get(customerId) === set) this.byCustomer.delete(customerId)
    }
  }
}
