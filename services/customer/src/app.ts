import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { createByteCache } from '@brewmesh/runtime/cache'
import { byTopic } from '@brewmesh/runtime/kafka'
import type { Logger } from '@brewmesh/runtime/logger'
import { migrateSchema, served, startService, type RunningService } from '@brewmesh/runtime/service'
import { FanOut } from '@brewmesh/runtime/streams'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { customerCache } from './cache/customer-cache.ts'
import type { CustomerConfig } from './config.ts'
import { customerStore } from './db/customer-store.ts'
import type { CustomerDb } from './db/schema.ts'
import { statsStore } from './db/stats-store.ts'
import type { CustomerDeps } from './domain/ports.ts'
import { loyaltyActivityHandler, orderActivityHandler } from './events/activity.consumer.ts'
import { toOutboxMessage } from './events/customer-events.ts'
import { customerFeedHandler } from './events/customer-feed.consumer.ts'
import type { FeedEvent } from './events/feed.ts'
import { orderStatsHandler, STATS_CONSUMER } from './events/order-stats.consumer.ts'
import { startStatsFeed } from './events/stats-feed.ts'
import { customerRoutes } from './grpc/customer-service.ts'
import { pendingRollups, pendingRollupsKey } from './jobs/pending-rollups.ts'
import { rollupScheduler, STATS_CONCURRENCY, STATS_QUEUE, statsProcessor, type StatsJob } from './jobs/stats-rollup.ts'
import { KNOWN_ENUMS } from './proto/known-enums.ts'

export const SERVICE_NAME = 'brewmesh.customer.v1.CustomerService'
export const MIGRATIONS = join(import.meta.dirname, 'db', 'migrations')

export interface AppOptions {
  clock?: () => Date
  log?: Logger
}

/** Applies the Customer service's migrations to its schema (the `migrate` command, tests). */
export function migrateCustomer(config: CustomerConfig, log: Logger): Promise<void> {
  return migrateSchema(config.postgres, MIGRATIONS, log)
}

/**
 * The Customer service: serves CustomerService; publishes customer events; every replica follows
 * the customer topic (cache invalidation, WatchCustomer, ActivityFeed) and the order and loyalty
 * topics (ActivityFeed); order events become statistics (durable group "customer-stats"), rolled
 * up by the customer-stats jobs (and nightly in full, with the archive), whose results reach every
 * replica's WatchCustomerStats over Valkey pub/sub.
 */
export function startApp(config: CustomerConfig, options: AppOptions = {}): Promise<RunningService> {
  return startService<CustomerDb>({ config, serviceName: SERVICE_NAME, ...options }, (infra) => {
    const { log } = infra
    const byteCache = createByteCache({
      valkey: infra.valkey,
      // Under this deployment's key prefix, like its queues and limits: deployments sharing a Valkey never share entries.
      prefix: `${config.valkey.keyPrefix}:`,
      ttlSeconds: config.cache.ttlSeconds,
      service: config.service,
      meter: infra.meter,
      log,
    })
    const deps: CustomerDeps = {
      store: customerStore(infra.db, config.postgres.schema, (change) => toOutboxMessage(infra.topic(TOPICS.customerEvents), change)),
      cache: customerCache(byteCache),
      clock: infra.clock,
      newId: randomUUID,
      enums: KNOWN_ENUMS,
    }
    const feed = new FanOut<FeedEvent>()
    const stats = statsStore(infra.db)
    // Rollup results reach every replica through a Valkey channel.
    const statsFeed = startStatsFeed(infra, `${config.valkey.keyPrefix}:customer-stats`)
    // Customers owed a rollup, marked by the statistics consumer and swept by the rollup job.
    const pending = pendingRollups(infra.valkey, pendingRollupsKey(config.valkey.keyPrefix))
    const rollups = rollupScheduler(infra.queue<StatsJob>(STATS_QUEUE), pending, config.stats.debounceMs, infra.jobsUp, log)
    return {
      grpc: [served(CustomerServiceService, customerRoutes(deps, feed, { store: stats, feed: statsFeed }))],
      publishes: [TOPICS.customerEvents],
      consumes: [
        { name: 'customer-feed', group: 'per-replica', topics: [TOPICS.customerEvents], handler: customerFeedHandler(deps.cache, feed) },
        {
          name: 'customer-activity',
          group: 'per-replica',
          topics: [TOPICS.orderEvents, TOPICS.loyaltyEvents],
          handler: byTopic({
            [infra.topic(TOPICS.orderEvents)]: orderActivityHandler(feed),
            [infra.topic(TOPICS.loyaltyEvents)]: loyaltyActivityHandler(feed, deps),
          }),
          // Sleeps while no WatchCustomer or ActivityFeed stream is open here; customer-feed above
          // never does, as it also drops this replica's cached profiles.
          audience: feed,
        },
        {
          name: STATS_CONSUMER,
          group: 'durable',
          topics: [TOPICS.orderEvents],
          handler: orderStatsHandler(stats, rollups),
          // Gathered for 50 ms after each fetch that brought events: under load one transaction and
          // one round of marks per window, not per event, for a fifth of the statistics' freshness
          // target (250 ms; rollups wait 500 anyway).
          batchWindowMs: 50,
        },
      ],
      jobs: [
        {
          queue: STATS_QUEUE,
          processor: statsProcessor(
            stats,
            pending,
            config.stats,
            infra.clock,
            (s) => statsFeed.publish(s),
            log.child({ component: 'stats' }),
          ),
          concurrency: STATS_CONCURRENCY,
          schedules: [
            { id: 'full-rollup-nightly', cron: config.stats.fullRollupCron, job: 'full-rollup' },
            { id: 'archive-nightly', cron: config.stats.archiveCron, job: 'archive' },
          ],
        },
      ],
    }
  })
}
