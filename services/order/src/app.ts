import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { OrderServiceService } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import { outboundOf, type TokenSource } from '@brewmesh/runtime/auth'
import type { Logger } from '@brewmesh/runtime/logger'
import { migrateSchema, served, startService, type RunningService } from '@brewmesh/runtime/service'
import { FanOut } from '@brewmesh/runtime/streams'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { customerClient } from './clients/customer-client.ts'
import { favoritesClient } from './clients/favorites-client.ts'
import { knownCustomers } from './clients/known-customers.ts'
import { loyaltyClient } from './clients/loyalty-client.ts'
import type { OrderConfig } from './config.ts'
import { customerFactsStore } from './db/customer-facts-store.ts'
import { orderStore } from './db/order-store.ts'
import type { OrderDb } from './db/schema.ts'
import type { OrderChange, OrderDeps } from './domain/ports.ts'
import { CUSTOMER_FACTS_CONSUMER, customerFactsHandler } from './events/customer-facts.consumer.ts'
import { toOutboxMessage } from './events/order-events.ts'
import { orderFeedHandler } from './events/order-feed.consumer.ts'
import { orderRoutes } from './grpc/order-service.ts'
import { BARISTA_COMMANDS_QUEUE, purgeBaristaCommands } from './jobs/barista-commands.ts'
import { runPayments } from './jobs/payments.ts'

export const SERVICE_NAME = 'brewmesh.order.v1.OrderService'
export const MIGRATIONS = join(import.meta.dirname, 'db', 'migrations')
const RETIRED_PAYMENTS_QUEUE = 'order-payments'

export interface AppOptions {
  clock?: () => Date
  log?: Logger
  /** The service's own token for outbound calls, instead of the configured source (tests). */
  serviceToken?: TokenSource
}

/** Applies the Order Service's migrations to its schema (the `migrate` command, tests). */
export function migrateOrder(config: OrderConfig, log: Logger): Promise<void> {
  return migrateSchema(config.postgres, MIGRATIONS, log)
}

/**
 * The Order Service: serves OrderService, calling Customer, Favorites and Loyalty with its own
 * identity; keeps what orders need of each customer from the customer events (durable group
 * order-customer-facts); publishes the order events; feeds its own WatchOrder and BaristaSession
 * streams from the order topic (per replica); answers payments once due (rounds over PostgreSQL);
 * forgets answered barista commands daily.
 */
export function startApp(config: OrderConfig, options: AppOptions = {}): Promise<RunningService> {
  return startService<OrderDb>({ config, serviceName: SERVICE_NAME, clock: options.clock, log: options.log }, (infra) => {
    const outbound = outboundOf(config.identity, config.auth.audience, options.serviceToken)
    const clients = {
      customer: customerClient(config.dependencies.customer, outbound),
      favorites: favoritesClient(config.dependencies.favorites, outbound),
      loyalty: loyaltyClient(config.dependencies.loyalty, outbound, infra.log.child({ component: 'loyalty-client' })),
    }
    infra.own({ name: 'outbound clients', stop: async () => Object.values(clients).forEach((c) => c.close()) })
    const customerFacts = customerFactsStore(infra.db)
    // Payments were BullMQ jobs (queue order-payments, with the outbox purge and the payment sweep
    // scheduled on it); rounds over PostgreSQL answer them now (jobs/payments.ts). What a replica of
    // an earlier version left there goes: its pending orders are paid by the rounds all the same.
    infra.retry('retired payments queue', async () => {
      const retired = infra.queue(RETIRED_PAYMENTS_QUEUE)
      const left = Object.values(await retired.getJobCounts()).some((n) => n > 0) || (await retired.getJobSchedulersCount()) > 0
      if (left) await retired.obliterate({ force: true })
    })
    const topic = infra.topic(TOPICS.orderEvents)
    const deps: OrderDeps = {
      customers: knownCustomers(customerFacts, clients.customer),
      favorites: clients.favorites,
      loyalty: clients.loyalty,
      store: orderStore(infra.db, config.postgres.schema, (change) => toOutboxMessage(topic, change)),
      clock: infra.clock,
      newId: randomUUID,
      taxRateBps: config.taxRateBps,
      currency: config.currency,
      payment: config.payment,
    }
    const changes = new FanOut<OrderChange>()
    const paying = runPayments(deps, config.payment, infra.stopping, infra.log.child({ component: 'payments' }))
    infra.own({ name: 'payment rounds', stop: () => paying })
    return {
      grpc: [served(OrderServiceService, orderRoutes(deps, changes))],
      publishes: [TOPICS.orderEvents],
      consumes: [
        {
          name: CUSTOMER_FACTS_CONSUMER,
          group: 'durable',
          topics: [TOPICS.customerEvents],
          handler: customerFactsHandler(customerFacts),
        },
        { name: 'order-feed', group: 'per-replica', topics: [TOPICS.orderEvents], handler: orderFeedHandler(changes), audience: changes },
      ],
      jobs: [
        {
          queue: BARISTA_COMMANDS_QUEUE,
          processor: async () => purgeBaristaCommands(deps.store, infra.clock()),
          schedules: [{ id: 'barista-commands-purge', cron: config.baristaCommands.purgeCron, job: 'purge' }],
        },
      ],
    }
  })
}
