import { randomUUID } from 'node:crypto'
import { DrinkSize, MilkType } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import type { Favorite } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import { FavoritesServiceService, type AddFavoriteRequest } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import type { PromiseClient } from '@brewmesh/sdk/client.ts'
import { customer } from '@brewmesh/testkit/principals.ts'
import { cleanupEnv, startTestService, testEnv, type ServiceUnderTest, type TestService } from '@brewmesh/testkit/service.ts'
import { migrateFavorites, startApp, type AppOptions } from '../src/app.ts'
import { readConfig, type FavoritesConfig } from '../src/config.ts'

export type FavoritesClient = PromiseClient<typeof FavoritesServiceService>

export interface Running extends TestService<typeof FavoritesServiceService, FavoritesConfig> {
  /** A client calling as this customer. */
  customer(customerId: string): Promise<FavoritesClient>
}

/** A fresh isolated environment (own schema, topics, key prefix) on the shared test servers. */
export const favoritesEnv = (extra: Record<string, string> = {}) => testEnv('favorites', extra)

const favorites = (options: AppOptions): ServiceUnderTest<typeof FavoritesServiceService, FavoritesConfig> => ({
  name: 'favorites',
  definition: FavoritesServiceService,
  readConfig,
  migrate: migrateFavorites,
  start: (config) => startApp(config, options),
})

/** Migrates and starts the Favorites service in-process on port 0, waiting until its consumers joined. */
export async function startFavorites(env: Record<string, string>, options: AppOptions & { migrate?: boolean } = {}): Promise<Running> {
  const svc = await startTestService(favorites(options), env, { migrate: options.migrate !== false })
  return { ...svc, customer: (customerId) => svc.as(customer(customerId)) }
}

export const cleanup = cleanupEnv

/** Menu item ids of the drinks the tests save. */
export const MENU = { latte: randomUUID(), flatWhite: randomUUID(), mocha: randomUUID(), chai: randomUUID() }

/** A valid AddFavorite request for a new oat latte (or the overrides). */
export function addRequest(customerId: string, overrides: Partial<AddFavoriteRequest> = {}): AddFavoriteRequest {
  return {
    requestId: randomUUID(),
    customerId,
    menuItemId: MENU.latte,
    displayName: 'Caffè Latte',
    customization: {
      size: DrinkSize.DRINK_SIZE_MEDIUM,
      milk: MilkType.MILK_TYPE_OAT,
      extraShots: 0,
      syrups: [],
      temperature: 0,
      sweetness: 0,
    },
    nickname: '',
    position: undefined,
    pinned: false,
    ...overrides,
  }
}

export async function addFavorite(
  client: FavoritesClient,
  customerId: string,
  overrides: Partial<AddFavoriteRequest> = {},
): Promise<Favorite> {
  return (await client.addFavorite(addRequest(customerId, overrides))).favorite!
}
