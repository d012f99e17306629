import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { FavoritesServiceService } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { compose, migrateSchema, openInfrastructure, serveGrpc } from '@brewmesh/runtime/service.ts'
import type { HealthMonitor } from '@brewmesh/runtime/health.ts'
import { createQueue, createWorker, queueMetrics } from '@brewmesh/runtime/jobs.ts'
import { createKafka, createProducer, ensureTopics, topicName } from '@brewmesh/runtime/kafka/client.ts'
import { byTopic, deadLetterTopic, startConsumer } from '@brewmesh/runtime/kafka/consumer.ts'
import { createOutboxRelay, type OutboxRelay } from '@brewmesh/runtime/kafka/outbox-relay.ts'
import { keepTrying, stopInReverse, type Stoppable } from '@brewmesh/runtime/lifecycle.ts'
import { backgroundConsumer, jobPart } from '@brewmesh/runtime/parts.ts'
import { createLogger, type Logger } from '@brewmesh/runtime/logger.ts'
import type { FavoritesConfig } from './config.ts'
import { favoritesStore } from './db/favorites-store.ts'
import type { FavoritesDb } from './db/schema.ts'
import type { FavoritesDeps } from './domain/ports.ts'
import { customerEventsHandler } from './events/customer-deleted.consumer.ts'
import { FavoritesBus } from './events/favorites-bus.ts'
import { FAVORITES_EVENTS_TOPIC, toOutboxMessages } from './events/favorites-events.ts'
import { favoritesFeedHandler } from './events/favorites-feed.consumer.ts'
import { orderEventsHandler } from './events/order-completed.consumer.ts'
import { favoritesService } from './grpc/favorites-service.ts'
import { MAINTENANCE_QUEUE, runMaintenance, scheduleMaintenance } from './jobs/maintenance.ts'

export const SERVICE_NAME = 'brewmesh.favorites.v1.FavoritesService'
export const MIGRATIONS = join(import.meta.dirname, 'db', 'migrations')
export const ORDER_EVENTS_TOPIC = 'brewmesh.order.events.v1'
export const CUSTOMER_EVENTS_TOPIC = 'brewmesh.customer.events.v1'
/** The durable consumer group of the order and customer events (one per service, shared by replicas). */
export const CONSUMER_GROUP = 'favorites'

export interface App {
  grpcPort: number
  metricsPort: number
  health: HealthMonitor
  relay: OutboxRelay
  /** Resolves once this replica's favorites feed and the event consumers have joined their groups. */
  ready: Promise<void>
  log: Logger
  stop(): Promise<void>
}

export interface AppOptions {
  clock?: () => Date
  log?: Logger
}

/** Applies the Favorites service's migrations to its schema (the `migrate` command, tests). */
export function migrateFavorites(config: FavoritesConfig, log: Logger): Promise<void> {
  return migrateSchema(config.postgres, MIGRATIONS, log)
}

/** The composition root: builds every part, starts serving, returns how to stop in reverse. */
export async function startApp(config: FavoritesConfig, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger({ level: config.log.level, service: config.service, instanceId: config.instanceId })
  return compose(log, (parts) => build(config, options, log, parts))
}

async function build(config: FavoritesConfig, options: AppOptions, log: Logger, parts: Stoppable[]): Promise<App> {
  // Ends the retry loops of parts that start in the background, before those parts stop.
  const background = new AbortController()

  const { meter, metricsPort, database, valkey, jobsConnection, jobsUp, jobsPrefix } = await openInfrastructure<FavoritesDb>(
    config,
    config.otlpEndpoint,
    log,
    parts,
  )

  const topic = topicName(config.kafka, FAVORITES_EVENTS_TOPIC)
  const clock = options.clock ?? (() => new Date())
  const deps: FavoritesDeps = {
    store: favoritesStore(database.db, config.postgres.schema, (op) => toOutboxMessages(topic, op)),
    clock,
    newId: randomUUID,
    usualWindowDays: config.usual.windowDays,
  }

  const kafka = createKafka(config.kafka, log)
  const admin = kafka.admin()
  parts.push({ name: 'kafka admin', stop: () => admin.disconnect() })
  const producer = createProducer(kafka)

  // Jobs: the daily clean-up. BullMQ waits for Valkey, so scheduling runs in the background.
  const maintenanceQueue = createQueue(MAINTENANCE_QUEUE, jobsConnection, jobsPrefix, log)
  const maintenanceWorker = createWorker(
    MAINTENANCE_QUEUE,
    async () => runMaintenance(deps.store, database.db, config.retention, clock()),
    jobsConnection,
    jobsPrefix,
    log,
  )
  // BullMQ's close waits for Valkey; with Valkey gone there is nothing to close gracefully.
  queueMetrics(meter, config.service, [[maintenanceQueue, maintenanceWorker]])
  parts.push(...jobPart(maintenanceQueue, maintenanceWorker, jobsUp, background))
  void keepTrying('maintenance scheduler', () => scheduleMaintenance(maintenanceQueue, config.retention.cron), background.signal, log)

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

  // Events in: this replica's view of the favorites topic (live streams), and the service's durable
  // consumer of order and customer events (dead letters through the producer).
  const bus = new FavoritesBus()
  const orderTopic = topicName(config.kafka, ORDER_EVENTS_TOPIC)
  const customerTopic = topicName(config.kafka, CUSTOMER_EVENTS_TOPIC)
  // The topics the consumers need, dead-letter topics included (the dead-letter producer never creates topics).
  let ensuring: Promise<void> | undefined
  const ensure = () =>
    (ensuring ??= (async () => {
      await admin.connect()
      const live = [topic, orderTopic, customerTopic].map((t) => ({ topic: t, numPartitions: 6 }))
      const dead = [orderTopic, customerTopic].map((t) => ({ topic: deadLetterTopic(t), numPartitions: 1 }))
      await ensureTopics(admin, [...live, ...dead])
    })().catch((err: unknown) => {
      ensuring = undefined
      throw err
    }))
  const feed = backgroundConsumer(
    'favorites feed',
    async () => {
      await ensure()
      return startConsumer({
        kafka,
        groupId: `favorites-feed-${config.instanceId}`,
        topics: [topic],
        handler: favoritesFeedHandler(bus),
        log: log.child({ component: 'favorites-feed' }),
        deadLetter: false,
        fromBeginning: false,
      })
    },
    background.signal,
    log,
  )
  const orders = orderEventsHandler(deps, log.child({ component: 'order-events' }))
  const customers = customerEventsHandler(deps, log.child({ component: 'customer-events' }))
  const inbox = backgroundConsumer(
    'favorites events',
    async () => {
      await ensure()
      await producer.connect()
      return startConsumer({
        kafka,
        // The topic suffix (empty in production) keeps isolated environments in their own group.
        groupId: `${CONSUMER_GROUP}${config.kafka.topicSuffix}`,
        topics: [orderTopic, customerTopic],
        handler: byTopic({ [orderTopic]: orders, [customerTopic]: customers }),
        log: log.child({ component: 'events' }),
        producer,
      })
    },
    background.signal,
    log,
  )
  parts.push({ name: 'dead-letter producer', stop: () => producer.disconnect() })
  parts.push(feed.part, inbox.part)
  const ready = Promise.all([feed.ready, inbox.ready]).then(() => undefined)

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
    register: (grpc, limitWrites) => grpc.add(FavoritesServiceService, favoritesService(deps, bus, grpc.calls, limitWrites)),
  })
  log.info({ grpcPort, metricsPort: metricsPort, topic }, 'favorites service started')

  return { grpcPort, metricsPort: metricsPort, health, relay, ready, log, stop: stopInReverse(log, parts) }
}
