import type { Infrastructure } from '@brewmesh/runtime/service'
import { FanOut } from '@brewmesh/runtime/streams'
import type { CustomerStats } from '../domain/stats.ts'

/** What the feed needs of Valkey: a command connection to publish on, a connection of its own to subscribe with. */
interface Publisher {
  publish(channel: string, message: string): Promise<unknown>
}
interface Subscriber {
  on(event: 'message', listener: (channel: string, message: string) => void): unknown
  subscribe(channel: string): Promise<unknown>
}

/**
 * Rollup results to every replica: the rollup job publishes on a Valkey channel; each replica's
 * subscriber connection hands them to its open WatchCustomerStats streams (`updates`, by customer
 * id). A replica that is not the one running the job still sees every update.
 */
export class StatsFeed {
  readonly updates = new FanOut<CustomerStats>()
  private readonly channel: string
  private readonly publisher: Publisher
  private readonly subscriber: Subscriber

  constructor(channel: string, publisher: Publisher, subscriber: Subscriber) {
    this.channel = channel
    this.publisher = publisher
    this.subscriber = subscriber
    subscriber.on('message', (from, message) => {
      // Every rollup of every replica comes by: read only those someone here is watching.
      if (from !== this.channel || this.updates.empty) return
      const s = JSON.parse(message) as CustomerStats & { computedAt: string; firstOrderAt?: string; lastOrderAt?: string }
      const stats: CustomerStats = {
        ...s,
        computedAt: new Date(s.computedAt),
        firstOrderAt: s.firstOrderAt ? new Date(s.firstOrderAt) : undefined,
        lastOrderAt: s.lastOrderAt ? new Date(s.lastOrderAt) : undefined,
      }
      this.updates.publish(stats.customerId, stats)
    })
  }

  /** Subscribes to the channel (once; the connection subscribes again by itself after a reconnect). */
  async subscribe(): Promise<void> {
    await this.subscriber.subscribe(this.channel)
  }

  async publish(stats: CustomerStats): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify(stats))
  }
}

/**
 * The feed on a subscriber connection of its own (a subscribed connection can run no other
 * command), stopped with the service; subscribing is retried in the background until Valkey answers.
 */
export function startStatsFeed(infra: Pick<Infrastructure<unknown>, 'valkey' | 'log' | 'own' | 'retry'>, channel: string): StatsFeed {
  const subscriber = infra.valkey.duplicate({
    connectionName: 'brewmesh-subscriber',
    enableOfflineQueue: true,
    enableAutoPipelining: false,
  })
  subscriber.on('error', (err: Error) => infra.log.debug({ err: err.message }, 'valkey subscriber connection error'))
  infra.own({ name: 'valkey subscriber', stop: async () => subscriber.disconnect() })
  const feed = new StatsFeed(channel, infra.valkey, subscriber)
  infra.retry('stats feed', () => feed.subscribe())
  return feed
}
