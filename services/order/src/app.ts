import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { OrderServiceService } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import {
  clientChannelCredentials,
  clientCredentials,
  tokenFile,
  withServiceToken,
  type TokenSource,
} from '@brewmesh/runtime/auth/outbound.ts'
import { compose, migrateSchema, openInfrastructure, serveGrpc } from '@brewmesh/runtime/service.ts'
import type { HealthMonitor } from '@brewmesh/runtime/health.ts'
import { createQueue, createWorker, queueMetrics } from '@brewmesh/runtime/jobs.ts'
import { createKafka, createProducer, ensureTopics, topicName } from '@brewmesh/runtime/kafka/client.ts'
import { startConsumer } from '@brewmesh/runtime/kafka/consumer.ts'
import { createOutboxRelay, type OutboxRelay } from '@brewmesh/runtime/kafka/outbox-relay.ts'
import { keepTrying, stopInReverse, type Stoppable } from '@brewmesh/runtime/lifecycle.ts'
import { backgroundConsumer, jobPart } from '@brewmesh/runtime/parts.ts'
import { createLogger, type Logger } from '@brewmesh/runtime/logger.ts'
import { customerClient } from './clients/customer-client.ts'
import { favoritesClient } from './clients/favorites-client.ts'
import { loyaltyClient } from './clients/loyalty-client.ts'
import type { OrderConfig } from './config.ts'
import { orderStore } from './db/order-store.ts'
import type { OrderDb } from './db/schema.ts'
import type { OrderDeps } from './domain/ports.ts'
import { OrderBus } from './events/order-bus.ts'
import { ORDER_EVENTS_TOPIC, toOutboxMessage } from './events/order-events.ts'
import { orderFeedHandler } from './events/order-feed.consumer.ts'
import { orderService } from './grpc/order-service.ts'
import { PAYMENTS_QUEUE, paymentProcessor, paymentQueue, schedulePaymentJobs, type PaymentJob } from './jobs/payments.ts'

export const SERVICE_NAME = 'brewmesh.order.v1.OrderService'
export const MIGRATIONS = join(import.meta.dirname, 'db', 'migrations')

export interface App {
  grpcPort: number
  metricsPort: number
  health: HealthMonitor
  relay: OutboxRelay
  /** Resolves once this replica's order feed has joined its group. */
  ready: Promise<void>
  log: Logger
  stop(): Promise<void>
}

export interface AppOptions {
  clock?: () => Date
  log?: Logger
  /** The service's own token for outbound calls, instead of the configured source (tests). */
  serviceToken?: TokenSource
}

export function migrateOrder(config: OrderConfig, log: Logger): Promise<void> {
  return migrateSchema(config.postgres, MIGRATIONS, log)
}

function tokenSourceOf(config: OrderConfig): TokenSource {
  const t = config.serviceToken
  return 'file' in t ? tokenFile(t.file) : clientCredentials({ ...t, audience: t.audience ?? config.auth.audience })
}

/** The composition root: builds every part, starts serving, returns how to stop in reverse. */
export async function startApp(config: OrderConfig, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger({ level: config.log.level, service: config.service, instanceId: config.instanceId })
  return compose(log, (parts) => build(config, options, log, parts))
}

async function build(config: OrderConfig, options: AppOptions, log: Logger, parts: Stoppable[]): Promise<App> {
  const background = new AbortController()
  const { meter, metricsPort, database, valkey, jobsConnection, jobsUp, jobsPrefix } = await openInfrastructure<OrderDb>(
    config,
    config.telemetry.otlpEndpoint,
    log,
    parts,
  )

  // Outbound: the generated clients, with this service's identity and the configured TLS.
  const auth = withServiceToken(options.serviceToken ?? tokenSourceOf(config))
  const channel = clientChannelCredentials({ ca: config.outboundCa ? readFileSync(config.outboundCa, 'utf8') : undefined })
  const customers = customerClient(config.dependencies.customer, auth, channel)
  const favorites = favoritesClient(config.dependencies.favorites, auth, channel)
  const loyalty = loyaltyClient(config.dependencies.loyalty, auth, log.child({ component: 'loyalty-client' }), channel)
  parts.push({ name: 'outbound clients', stop: async () => [customers, favorites, loyalty].forEach((c) => c.close()) })

  const queue = createQueue<PaymentJob>(PAYMENTS_QUEUE, jobsConnection, jobsPrefix, log)
  const payments = paymentQueue(queue, config.payment.delayMs, jobsUp)
  const topic = topicName(config.kafka, ORDER_EVENTS_TOPIC)
  const clock = options.clock ?? (() => new Date())
  const deps: OrderDeps = {
    store: orderStore(database.db, config.postgres.schema, (change) => toOutboxMessage(topic, change, clock())),
    customers,
    favorites,
    loyalty,
    payments,
    clock,
    newId: randomUUID,
    taxRateBps: config.taxRateBps,
    currency: config.currency,
    payment: config.payment,
  }

  // Jobs: the mock payment processor, its sweep, the outbox purge.
  const worker = createWorker<PaymentJob>(
    PAYMENTS_QUEUE,
    paymentProcessor(deps, payments, database.db, config.retention.outboxDays, log.child({ component: 'payments' })),
    jobsConnection,
    jobsPrefix,
    log,
    config.payment.concurrency,
  )
  queueMetrics(meter, config.service, [[queue, worker]])
  parts.push(...jobPart(queue, worker, jobsUp, background))
  void keepTrying('payment schedulers', () => schedulePaymentJobs(queue, config.payment.sweepCron), background.signal, log)

  const kafka = createKafka(config.kafka, log)
  const admin = kafka.admin()
  parts.push({ name: 'kafka admin', stop: () => admin.disconnect() })
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

  // Events in: this replica's view of the order topic, for WatchOrder and BaristaSession.
  const bus = new OrderBus()
  const feed = backgroundConsumer(
    'order feed',
    async () => {
      await admin.connect()
      await ensureTopics(admin, [{ topic, numPartitions: 6 }])
      return startConsumer({
        kafka,
        groupId: `order-feed-${config.instanceId}`,
        topics: [topic],
        handler: orderFeedHandler(bus),
        log: log.child({ component: 'order-feed' }),
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
    register: (grpc, limitWrites) => grpc.add(OrderServiceService, orderService(deps, bus, grpc.calls, limitWrites)),
  })
  log.info({ grpcPort, metricsPort: metricsPort, topic }, 'order service started')
  return { grpcPort, metricsPort: metricsPort, health, relay, ready: feed.ready, log, stop: stopInReverse(log, parts) }
}
