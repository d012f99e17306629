import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { FavoriteChange } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import { FavoritesServiceService } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { byTopic } from '@brewmesh/runtime/kafka'
import type { Logger } from '@brewmesh/runtime/logger'
import { migrateSchema, served, startService, type RunningService } from '@brewmesh/runtime/service'
import { FanOut } from '@brewmesh/runtime/streams'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import type { FavoritesConfig } from './config.ts'
import { favoritesStore } from './db/favorites-store.ts'
import type { FavoritesDb } from './db/schema.ts'
import type { FavoritesDeps } from './domain/ports.ts'
import { customerEventsHandler } from './events/customer-deleted.consumer.ts'
import { toOutboxMessages } from './events/favorites-events.ts'
import { favoritesFeedHandler } from './events/favorites-feed.consumer.ts'
import { orderEventsHandler } from './events/order-completed.consumer.ts'
import { favoritesRoutes } from './grpc/favorites-service.ts'
import { MAINTENANCE_QUEUE, runMaintenance } from './jobs/maintenance.ts'

export const SERVICE_NAME = 'brewmesh.favorites.v1.FavoritesService'
export const MIGRATIONS = join(import.meta.dirname, 'db', 'migrations')

export interface AppOptions {
  clock?: () => Date
  log?: Logger
}

/** Applies the Favorites service's migrations to its schema (the `migrate` command, tests). */
export function migrateFavorites(config: FavoritesConfig, log: Logger): Promise<void> {
  return migrateSchema(config.postgres, MIGRATIONS, log)
}

/**
 * The Favorites service: serves FavoritesService; publishes favorites events; learns the usual
 * from completed orders and forgets deleted customers (durable group "favorites"); feeds its own
 * live streams from the favorites topic (per replica); prunes tombstones and old idempotency keys
 * daily.
 */
export function startApp(config: FavoritesConfig, options: AppOptions = {}): Promise<RunningService> {
  return startService<FavoritesDb>({ config, serviceName: SERVICE_NAME, ...options }, (infra) => {
    const deps: FavoritesDeps = {
      store: favoritesStore(infra.db, config.postgres.schema, (op) => toOutboxMessages(infra.topic(TOPICS.favoritesEvents), op)),
      clock: infra.clock,
      newId: randomUUID,
      usualWindowDays: config.usual.windowDays,
    }
    const changes = new FanOut<FavoriteChange>()
    return {
      grpc: [served(FavoritesServiceService, favoritesRoutes(deps, changes))],
      publishes: [TOPICS.favoritesEvents],
      consumes: [
        {
          name: 'favorites',
          group: 'durable',
          // Nobody watches these effects in real time: gathered for 200 ms after each fetch, fewer fetches and transactions.
          batchWindowMs: 200,
          topics: [TOPICS.orderEvents, TOPICS.customerEvents],
          handler: byTopic({
            [infra.topic(TOPICS.orderEvents)]: orderEventsHandler(deps, infra.log.child({ component: 'order-events' })),
            [infra.topic(TOPICS.customerEvents)]: customerEventsHandler(deps, infra.log.child({ component: 'customer-events' })),
          }),
        },
        {
          name: 'favorites-feed',
          group: 'per-replica',
          topics: [TOPICS.favoritesEvents],
          handler: favoritesFeedHandler(changes),
          audience: changes, // sleeps while no WatchFavorites or SyncFavorites stream is open here
        },
      ],
      jobs: [
        {
          queue: MAINTENANCE_QUEUE,
          processor: async () => runMaintenance(deps.store, config.retention, infra.clock()),
          schedules: [{ id: 'maintenance-daily', cron: config.retention.maintenanceCron, job: 'maintenance' }],
        },
      ],
    }
  })
}
