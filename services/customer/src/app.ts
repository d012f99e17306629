import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { createByteCache } from '@brewmesh/runtime/cache.ts'
import { compose, migrateSchema, openInfrastructure, serveGrpc } from '@brewmesh/runtime/service.ts'
import { purgeOutbox } from '@brewmesh/runtime/db/outbox.ts'
import type { HealthMonitor } from '@brewmesh/runtime/health.ts'
import { createQueue, createWorker, queueMetrics } from '@brewmesh/runtime/jobs.ts'
import { createKafka, createProducer, ensureTopics, topicName } from '@brewmesh/runtime/kafka/client.ts'
import { deadLetterTopic, startConsumer } from '@brewmesh/runtime/kafka/consumer.ts'
import { createOutboxRelay, type OutboxRelay } from '@brewmesh/runtime/kafka/outbox-relay.ts'
import { keepTrying, sleep, stopInReverse, type Stoppable } from '@brewmesh/runtime/lifecycle.ts'
import { backgroundConsumer, jobPart } from '@brewmesh/runtime/parts.ts'
import { createLogger, type Logger } from '@brewmesh/runtime/logger.ts'
import { closeValkey, createValkey } from '@brewmesh/runtime/valkey.ts'
import { customerCache } from './cache/customer-cache.ts'
import type { CustomerConfig } from './config.ts'
import { customerStore } from './db/customer-store.ts'
import { statsStore } from './db/stats-store.ts'
import { orderStatsHandler, STATS_CONSUMER } from './events/order-stats.consumer.ts'
import { StatsFeed } from './events/stats-feed.ts'
import { rollupScheduler, scheduleStatsJobs, STATS_CONCURRENCY, STATS_QUEUE, statsProcessor, type StatsJob } from './jobs/stats-rollup.ts'
import type { CustomerDb } from './db/schema.ts'
import type { CustomerDeps } from './domain/ports.ts'
import { ActivityBus } from './events/activity-bus.ts'
import { customerFeedHandler } from './events/customer-feed.consumer.ts'
import { activityHandler } from './events/activity.consumer.ts'
import { getCustomer } from './domain/customers.ts'
import { CUSTOMER_EVENTS_TOPIC, toOutboxMessage } from './events/customer-events.ts'
import { customerService } from './grpc/customer-service.ts'
import { OUTBOX_PURGE_QUEUE, scheduleOutboxPurge } from './jobs/outbox-purge.ts'

export const SERVICE_NAME = 'brewmesh.customer.v1.CustomerService'
export const ORDER_EVENTS_TOPIC = 'brewmesh.order.events.v1'
export const LOYALTY_EVENTS_TOPIC = 'brewmesh.loyalty.events.v1'
export const MIGRATIONS = join(import.meta.dirname, 'db', 'migrations')

export interface App {
  grpcPort: number
  metricsPort: number
  health: HealthMonitor
  relay: OutboxRelay
  /** Resolves once this replica's event and activity feeds have joined their groups (tests wait for it). */
  feedReady: Promise<void>
  /** Resolves once the order-statistics consumer has joined its group. */
  statsReady: Promise<void>
  log: Logger
  stop(): Promise<void>
}

export interface AppOptions {
  clock?: () => Date
  log?: Logger
}

/** Applies the Customer service's migrations to its schema (the `migrate` command, tests). */
export function migrateCustomer(config: CustomerConfig, log: Logger): Promise<void> {
  return migrateSchema(config.postgres, MIGRATIONS, log)
}

/** The composition root: builds every part, starts serving, returns how to stop in reverse. */
export async function startApp(config: CustomerConfig, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger({ level: config.log.level, service: config.service, instanceId: config.instanceId })
  return compose(log, (parts) => build(config, options, log, parts))
}

async function build(config: CustomerConfig, options: AppOptions, log: Logger, parts: Stoppable[]): Promise<App> {
  // Ends the retry loops of parts that start in the background, before those parts stop.
  const background = new AbortController()

  const { meter, metricsPort, database, valkey, jobsConnection, jobsUp, jobsPrefix } = await openInfrastructure<CustomerDb>(
    config,
    config.telemetry.otlpEndpoint,
    log,
    parts,
  )

  const cache = customerCache(
    createByteCache({ valkey, prefix: '', ttlSeconds: config.cache.ttlSeconds, service: config.service, meter, log }),
  )
  const topic = topicName(config.kafka, CUSTOMER_EVENTS_TOPIC)
  const deps: CustomerDeps = {
    store: customerStore(database.db, config.postgres.schema, (change) => toOutboxMessage(topic, change)),
    cache,
    clock: options.clock ?? (() => new Date()),
    newId: randomUUID,
  }

  const kafka = createKafka(config.kafka, log)
  const admin = kafka.admin()
  parts.push({ name: 'kafka admin', stop: () => admin.disconnect() })

  // Jobs: purge published outbox rows daily. BullMQ waits for Valkey, so scheduling runs in the background.
  const purgeQueue = createQueue(OUTBOX_PURGE_QUEUE, jobsConnection, jobsPrefix, log)
  const purgeWorker = createWorker(
    OUTBOX_PURGE_QUEUE,
    async () => purgeOutbox(database.db, config.retention.outboxDays, deps.clock()),
    jobsConnection,
    jobsPrefix,
    log,
  )
  // BullMQ's close waits for Valkey; with Valkey gone there is nothing to close gracefully.
  parts.push(...jobPart(purgeQueue, purgeWorker, jobsUp, background))
  void keepTrying('outbox purge scheduler', () => scheduleOutboxPurge(purgeQueue, config.retention.cron), background.signal, log)

  // Events out: the outbox relay.
  const relay = createOutboxRelay({
    db: database.db,
    pool: database.pool,
    schema: config.postgres.schema,
    producer: createProducer(kafka),
    log: log.child({ component: 'outbox' }),
    meter,
  })
  relay.start()
  parts.push({ name: 'outbox relay', stop: () => relay.stop() })

  // Events in: this replica's own view of the customer topic (cache invalidation, live streams).
  const bus = new ActivityBus()
  const feed = backgroundConsumer(
    'customer feed',
    async () => {
      await admin.connect()
      await ensureTopics(admin, [{ topic, numPartitions: 6 }])
      return startConsumer({
        kafka,
        groupId: `customer-feed-${config.instanceId}`,
        topics: [topic],
        handler: customerFeedHandler({ cache, bus }),
        log: log.child({ component: 'customer-feed' }),
        deadLetter: false,
        fromBeginning: false,
      })
    },
    background.signal,
    log,
  )
  parts.push(feed.part)

  // Order and loyalty activity for ActivityFeed (this replica's own view, like the customer feed).
  const activityTopics = { orders: topicName(config.kafka, ORDER_EVENTS_TOPIC), loyalty: topicName(config.kafka, LOYALTY_EVENTS_TOPIC) }
  const householdOf = async (customerId: string) => (await getCustomer(deps, customerId).catch(() => undefined))?.householdId ?? ''
  const activity = backgroundConsumer(
    'activity feed',
    async () => {
      await admin.connect()
      await ensureTopics(
        admin,
        [activityTopics.orders, activityTopics.loyalty].map((t) => ({ topic: t, numPartitions: 6 })),
      )
      return startConsumer({
        kafka,
        groupId: `customer-activity-${config.instanceId}`,
        topics: [activityTopics.orders, activityTopics.loyalty],
        handler: activityHandler(activityTopics, bus, householdOf),
        log: log.child({ component: 'activity-feed' }),
        deadLetter: false,
        fromBeginning: false,
      })
    },
    background.signal,
    log,
  )
  parts.push(activity.part)

  // Statistics (order events → facts → BullMQ rollups on Valkey → WatchCustomerStats on every replica).
  const stats = statsStore(database.db)
  const statsQueue = createQueue<StatsJob>(STATS_QUEUE, jobsConnection, jobsPrefix, log)
  const statsFeed = new StatsFeed(`${config.valkey.keyPrefix}:customer-stats`, valkey)
  const statsWorker = createWorker<StatsJob>(
    STATS_QUEUE,
    statsProcessor(stats, config.stats, deps.clock, (s) => statsFeed.publish(s), log.child({ component: 'stats' })),
    jobsConnection,
    jobsPrefix,
    log,
    STATS_CONCURRENCY,
  )
  parts.push(...jobPart(statsQueue, statsWorker, jobsUp, background))
  queueMetrics(meter, config.service, [
    [statsQueue, statsWorker],
    [purgeQueue, purgeWorker],
  ])
  void keepTrying('stats schedulers', () => scheduleStatsJobs(statsQueue, config.stats), background.signal, log)
  const subscriber = createValkey(config.valkey, log, 'subscriber')
  parts.push({ name: 'valkey subscriber', stop: () => closeValkey(subscriber) })
  void keepTrying('stats feed', () => statsFeed.listen(subscriber), background.signal, log)
  const scheduleRollups = rollupScheduler(statsQueue, config.stats.debounceMs)
  const orderTopic = activityTopics.orders
  const deadLetters = createProducer(kafka)
  const statsConsumer = backgroundConsumer(
    'order stats',
    async () => {
      await admin.connect()
      await ensureTopics(admin, [
        { topic: orderTopic, numPartitions: 6 },
        { topic: deadLetterTopic(orderTopic), numPartitions: 1 },
      ])
      await deadLetters.connect()
      return startConsumer({
        kafka,
        // The topic suffix (empty in production) keeps isolated environments in their own group.
        groupId: `${STATS_CONSUMER}${config.kafka.topicSuffix}`,
        topics: [orderTopic],
        // With Valkey away the rollups are not queued (the nightly full rollup catches up); the facts are kept.
        handler: orderStatsHandler(stats, (rollups) =>
          Promise.race([scheduleRollups(rollups), sleep(1000)]).catch((err: unknown) =>
            log.warn({ err: (err as Error).message, customers: rollups.length }, 'rollups not queued'),
          ),
        ),
        log: log.child({ component: 'order-stats' }),
        producer: deadLetters,
      })
    },
    background.signal,
    log,
  )
  parts.push({ name: 'dead-letter producer', stop: () => deadLetters.disconnect() })
  parts.push(statsConsumer.part)

  const { grpcPort, health } = await serveGrpc({
    config,
    serviceName: SERVICE_NAME,
    healthIntervalMs: config.health.intervalMs,
    meter,
    database,
    valkey,
    admin,
    log,
    parts,
    register: (grpc, limitWrites) =>
      grpc.add(CustomerServiceService, customerService(deps, bus, grpc.calls, limitWrites, { store: stats, feed: statsFeed })),
  })
  log.info({ grpcPort, metricsPort: metricsPort, topic }, 'customer service started')

  return {
    grpcPort,
    metricsPort: metricsPort,
    health,
    relay,
    feedReady: Promise.all([feed.ready, activity.ready]).then(() => undefined),
    statsReady: statsConsumer.ready,
    log,
    stop: stopInReverse(log, parts),
  }
}
