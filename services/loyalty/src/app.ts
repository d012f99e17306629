import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { LoyaltyServiceService } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { purgeOutbox } from '@brewmesh/runtime/db/outbox.ts'
import { compose, migrateSchema, openInfrastructure, serveGrpc } from '@brewmesh/runtime/service.ts'
import type { HealthMonitor } from '@brewmesh/runtime/health.ts'
import { createQueue, createWorker, queueMetrics } from '@brewmesh/runtime/jobs.ts'
import { createKafka, createProducer, ensureTopics, topicName } from '@brewmesh/runtime/kafka/client.ts'
import { deadLetterTopic, startConsumer } from '@brewmesh/runtime/kafka/consumer.ts'
import { createOutboxRelay, type OutboxRelay } from '@brewmesh/runtime/kafka/outbox-relay.ts'
import { keepTrying, stopInReverse, type Stoppable } from '@brewmesh/runtime/lifecycle.ts'
import { createLogger, type Logger } from '@brewmesh/runtime/logger.ts'
import type { Kafka } from 'kafkajs'
import type { LoyaltyConfig } from './config.ts'
import { backgroundConsumer, jobPart } from '@brewmesh/runtime/parts.ts'
import { loyaltyStore } from './db/loyalty-store.ts'
import type { LoyaltyDb } from './db/schema.ts'
import type { Crossing, LoyaltyDeps } from './domain/ports.ts'
import { AccountBus } from './events/account-bus.ts'
import { loyaltyFeedHandler } from './events/loyalty-feed.consumer.ts'
import { LOYALTY_EVENTS_TOPIC, toOutboxMessage } from './events/loyalty-events.ts'
import { loyaltyInboxHandler } from './events/loyalty-inbox.consumer.ts'
import { loyaltyService } from './grpc/loyalty-service.ts'
import { POINTS_EXPIRY_QUEUE, processPointsExpiry, schedulePointsExpiry } from './jobs/points-expiry.ts'
import { OUTBOX_PURGE_QUEUE, scheduleOutboxPurge } from './jobs/outbox-purge.ts'
import { processReservationHold, RESERVATION_HOLD_QUEUE, scheduleReservationHold } from './jobs/reservation-hold.ts'
import { enqueueCrossings, processRewardAvailable, REWARD_AVAILABLE_QUEUE } from './jobs/reward-available.ts'

export const SERVICE_NAME = 'brewmesh.loyalty.v1.LoyaltyService'
export const MIGRATIONS = join(import.meta.dirname, 'db', 'migrations')
export const ORDER_EVENTS_TOPIC = 'brewmesh.order.events.v1'
export const CUSTOMER_EVENTS_TOPIC = 'brewmesh.customer.events.v1'
/** The durable consumer group of the order and customer topics, shared by every replica. */
export const INBOX_GROUP = 'loyalty'

export interface App {
  grpcPort: number
  metricsPort: number
  health: HealthMonitor
  relay: OutboxRelay
  /** Resolves once the order/customer consumer has joined its group (tests wait for it). */
  inboxReady: Promise<void>
  /** Resolves once this replica's loyalty event feed has joined its group. */
  feedReady: Promise<void>
  deps: LoyaltyDeps
  log: Logger
  stop(): Promise<void>
}

export interface AppOptions {
  clock?: () => Date
  log?: Logger
}

/** Applies the Loyalty service's migrations to its schema (the `migrate` command, tests). */
export function migrateLoyalty(config: LoyaltyConfig, log: Logger): Promise<void> {
  return migrateSchema(config.postgres, MIGRATIONS, log)
}

/** The composition root: builds every part, starts serving, returns how to stop in reverse. */
export async function startApp(config: LoyaltyConfig, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger({ level: config.log.level, service: config.service, instanceId: config.instanceId })
  return compose(log, (parts) => build(config, options, log, parts))
}

async function build(config: LoyaltyConfig, options: AppOptions, log: Logger, parts: Stoppable[]): Promise<App> {
  // Ends the retry loops of parts that start in the background, before those parts stop.
  const background = new AbortController()

  const { meter, metricsPort, database, valkey, jobsConnection, jobsUp, jobsPrefix } = await openInfrastructure<LoyaltyDb>(
    config,
    config.telemetry.otlpEndpoint,
    log,
    parts,
  )

  const topics = {
    loyalty: topicName(config.kafka, LOYALTY_EVENTS_TOPIC),
    orders: topicName(config.kafka, ORDER_EVENTS_TOPIC),
    customers: topicName(config.kafka, CUSTOMER_EVENTS_TOPIC),
  }
  const rewardQueue = createQueue<Crossing>(REWARD_AVAILABLE_QUEUE, jobsConnection, jobsPrefix, log)
  const enqueue = enqueueCrossings(rewardQueue)
  const deps: LoyaltyDeps = {
    store: loyaltyStore(database.db, config.postgres.schema, (change) => toOutboxMessage(topics.loyalty, config.rules, change)),
    rules: config.rules,
    clock: options.clock ?? (() => new Date()),
    newId: randomUUID,
    // After commit: a lost announcement must not fail the change that caused it (Valkey down).
    announce: async (crossings) => {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('valkey did not answer')), 1000)))
      try {
        await Promise.race([enqueue(crossings), timeout])
      } catch (err) {
        log.warn({ err: (err as Error).message, crossings: crossings.length }, 'reward-available jobs not enqueued')
      } finally {
        clearTimeout(timer)
      }
    },
  }

  // Jobs: points expiry, reward-available notifications, the reservation hold, the outbox purge.
  const expiryQueue = createQueue(POINTS_EXPIRY_QUEUE, jobsConnection, jobsPrefix, log)
  const expiryWorker = createWorker(POINTS_EXPIRY_QUEUE, processPointsExpiry(deps), jobsConnection, jobsPrefix, log)
  parts.push(...jobPart(expiryQueue, expiryWorker, jobsUp, background))
  const rewardWorker = createWorker(REWARD_AVAILABLE_QUEUE, processRewardAvailable(deps), jobsConnection, jobsPrefix, log, 4)
  parts.push(...jobPart(rewardQueue, rewardWorker, jobsUp, background))
  void keepTrying('points expiry scheduler', () => schedulePointsExpiry(expiryQueue, config.expiry.cron), background.signal, log)
  const holdQueue = createQueue(RESERVATION_HOLD_QUEUE, jobsConnection, jobsPrefix, log)
  const holdWorker = createWorker(RESERVATION_HOLD_QUEUE, processReservationHold(deps), jobsConnection, jobsPrefix, log)
  parts.push(...jobPart(holdQueue, holdWorker, jobsUp, background))
  void keepTrying(
    'reservation hold scheduler',
    () => scheduleReservationHold(holdQueue, config.reservationHold.cron),
    background.signal,
    log,
  )
  const purgeQueue = createQueue(OUTBOX_PURGE_QUEUE, jobsConnection, jobsPrefix, log)
  const purgeWorker = createWorker(
    OUTBOX_PURGE_QUEUE,
    async () => purgeOutbox(database.db, config.retention.outboxDays, deps.clock()),
    jobsConnection,
    jobsPrefix,
    log,
  )
  parts.push(...jobPart(purgeQueue, purgeWorker, jobsUp, background))
  queueMetrics(meter, config.service, [
    [expiryQueue, expiryWorker],
    [rewardQueue, rewardWorker],
    [holdQueue, holdWorker],
    [purgeQueue, purgeWorker],
  ])
  void keepTrying('outbox purge scheduler', () => scheduleOutboxPurge(purgeQueue, config.retention.cron), background.signal, log)

  const kafka: Kafka = createKafka(config.kafka, log)
  const admin = kafka.admin()
  parts.push({ name: 'kafka admin', stop: () => admin.disconnect() })

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

  const createTopics = async () => {
    await admin.connect()
    // Dead-letter topics too: the dead-letter producer never creates topics by itself.
    const dead = [deadLetterTopic(topics.orders), deadLetterTopic(topics.customers)].map((topic) => ({ topic, numPartitions: 1 }))
    await ensureTopics(admin, [...[topics.loyalty, topics.orders, topics.customers].map((topic) => ({ topic, numPartitions: 6 })), ...dead])
  }
  // Both consumers need the topics: one creation attempt at a time, retried after a failure.
  let ensuring: Promise<void> | undefined
  const ensure = () => {
    ensuring ??= createTopics().catch((err: unknown) => {
      ensuring = undefined
      throw err
    })
    return ensuring
  }

  // Events in: order and customer events, once per deployment (the durable `loyalty` group).
  const deadLetters = createProducer(kafka)
  const inbox = backgroundConsumer(
    'loyalty inbox',
    async () => {
      await ensure()
      await deadLetters.connect()
      return startConsumer({
        kafka,
        // The suffix is empty in production; parallel test runs must not share one group.
        groupId: INBOX_GROUP + config.kafka.topicSuffix,
        topics: [topics.orders, topics.customers],
        handler: loyaltyInboxHandler(deps, topics),
        log: log.child({ component: 'loyalty-inbox' }),
        producer: deadLetters,
      })
    },
    background.signal,
    log,
  )
  parts.push({ name: 'dead-letter producer', stop: () => deadLetters.disconnect() })
  parts.push(inbox.part)

  // This replica's own view of the loyalty topic, for WatchAccount streams.
  const bus = new AccountBus()
  const feed = backgroundConsumer(
    'loyalty feed',
    async () => {
      await ensure()
      return startConsumer({
        kafka,
        groupId: `loyalty-feed-${config.instanceId}`,
        topics: [topics.loyalty],
        handler: loyaltyFeedHandler(bus),
        log: log.child({ component: 'loyalty-feed' }),
        deadLetter: false,
        fromBeginning: false,
      })
    },
    background.signal,
    log,
  )
  parts.push(feed.part)

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
    register: (grpc, limitWrites) => grpc.add(LoyaltyServiceService, loyaltyService(deps, bus, grpc.calls, limitWrites)),
  })
  log.info({ grpcPort, metricsPort: metricsPort, topics }, 'loyalty service started')

  return {
    grpcPort,
    metricsPort: metricsPort,
    health,
    relay,
    inboxReady: inbox.ready,
    feedReady: feed.ready,
    deps,
    log,
    stop: stopInReverse(log, parts),
  }
}
