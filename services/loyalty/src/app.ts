import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { LoyaltyServiceService } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { outboundOf, type TokenSource } from '@brewmesh/runtime/auth'
import { byTopic } from '@brewmesh/runtime/kafka'
import type { Logger } from '@brewmesh/runtime/logger'
import { migrateSchema, served, startService, type Infrastructure, type RunningService } from '@brewmesh/runtime/service'
import { FanOut } from '@brewmesh/runtime/streams'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { orderClient } from './clients/order-client.ts'
import type { LoyaltyConfig } from './config.ts'
import { loyaltyStore } from './db/loyalty-store.ts'
import type { LoyaltyDb } from './db/schema.ts'
import type { Crossing, LoyaltyDeps, OrderLookup } from './domain/ports.ts'
import { toOutboxMessage } from './events/loyalty-events.ts'
import { loyaltyFeedHandler } from './events/loyalty-feed.consumer.ts'
import { customerEventsHandler, orderEventsHandler } from './events/loyalty-inbox.consumer.ts'
import { loyaltyRoutes } from './grpc/loyalty-service.ts'
import { POINTS_EXPIRY_QUEUE, POINTS_EXPIRY_SCHEDULE, processPointsExpiry } from './jobs/points-expiry.ts'
import { processReservationHold, RESERVATION_HOLD_QUEUE, RESERVATION_HOLD_SCHEDULE } from './jobs/reservation-hold.ts'
import { announceCrossings, processRewardAvailable, REWARD_AVAILABLE_QUEUE } from './jobs/reward-available.ts'

export const SERVICE_NAME = 'brewmesh.loyalty.v1.LoyaltyService'
export const MIGRATIONS = join(import.meta.dirname, 'db', 'migrations')

export interface AppOptions {
  clock?: () => Date
  log?: Logger
  /** Instead of asking the Order Service (tests of the reservation hold). */
  orders?: OrderLookup
  /** The service's own token for outbound calls, instead of the configured source (tests). */
  serviceToken?: TokenSource
}

/** Applies the Loyalty service's migrations to its schema (the `migrate` command, tests). */
export function migrateLoyalty(config: LoyaltyConfig, log: Logger): Promise<void> {
  return migrateSchema(config.postgres, MIGRATIONS, log)
}

/** The Order Service client the reservation hold asks, with this service's identity, closed at stop. */
function ownedOrderClient(config: LoyaltyConfig, options: AppOptions, infra: Pick<Infrastructure<LoyaltyDb>, 'own'>) {
  const client = orderClient(config.orderService, outboundOf(config.identity, config.auth.audience, options.serviceToken))
  infra.own({ name: 'order service client', stop: async () => client.close() })
  return client
}

/**
 * The Loyalty service: serves LoyaltyService; publishes loyalty events; applies order and customer
 * events to the ledger (durable group "loyalty"); feeds its own WatchAccount streams from the
 * loyalty topic (per replica); expires idle balances, announces rewards that became affordable and
 * releases reservations whose order the Order Service never stored (jobs; it asks the Order
 * Service with its own identity).
 */
export function startApp(config: LoyaltyConfig, options: AppOptions = {}): Promise<RunningService> {
  return startService<LoyaltyDb>({ config, serviceName: SERVICE_NAME, clock: options.clock, log: options.log }, (infra) => {
    const topic = infra.topic(TOPICS.loyaltyEvents)
    const deps: LoyaltyDeps = {
      orders: options.orders ?? ownedOrderClient(config, options, infra),
      store: loyaltyStore(infra.db, config.postgres.schema, (change) => toOutboxMessage(topic, config.rules, change, infra.clock())),
      rules: config.rules,
      clock: infra.clock,
      newId: randomUUID,
      announce: announceCrossings(infra.queue<Crossing>(REWARD_AVAILABLE_QUEUE), infra.jobsUp, infra.log),
    }
    const accounts = new FanOut<LoyaltyEvent>()
    return {
      grpc: [served(LoyaltyServiceService, loyaltyRoutes(deps, accounts))],
      publishes: [TOPICS.loyaltyEvents],
      consumes: [
        {
          name: 'loyalty',
          group: 'durable',
          // Nobody watches these effects in real time: gathered for 200 ms after each fetch, fewer fetches and transactions.
          batchWindowMs: 200,
          topics: [TOPICS.orderEvents, TOPICS.customerEvents],
          handler: byTopic({
            [infra.topic(TOPICS.orderEvents)]: orderEventsHandler(deps),
            [infra.topic(TOPICS.customerEvents)]: customerEventsHandler(deps),
          }),
        },
        {
          name: 'loyalty-feed',
          group: 'per-replica',
          topics: [TOPICS.loyaltyEvents],
          handler: loyaltyFeedHandler(accounts),
          audience: accounts,
        },
      ],
      jobs: [
        {
          queue: POINTS_EXPIRY_QUEUE,
          processor: processPointsExpiry(deps),
          schedules: [{ id: POINTS_EXPIRY_SCHEDULE, cron: config.expiry.cron, job: 'expire' }],
        },
        { queue: REWARD_AVAILABLE_QUEUE, processor: processRewardAvailable(deps), concurrency: 4 },
        {
          queue: RESERVATION_HOLD_QUEUE,
          processor: processReservationHold(deps),
          schedules: [{ id: RESERVATION_HOLD_SCHEDULE, cron: config.reservationHold.cron, job: 'release' }],
        },
      ],
    }
  })
}
