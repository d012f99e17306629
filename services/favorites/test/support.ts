import { randomUUID } from 'node:crypto'
import { inject } from 'vitest'
import { FavoritesServiceClient, type AddFavoriteRequest } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import type { Favorite } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import { DrinkSize, MilkType } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import { bearer, testIssuer, type TestIssuer, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { migrateFavorites, startApp, type App, type AppOptions } from '../src/app.ts'
import { readConfig, type FavoritesConfig } from '../src/config.ts'

export interface Running {
  app: App
  address: string
  /** A client with a staff token (support + operator). */
  client: FavoritesServiceClient
  issuer: TestIssuer
  /** A client calling with a token for these claims. */
  clientAs(claims: TokenClaims): Promise<FavoritesServiceClient>
  /** A client calling as this customer. */
  customer(customerId: string): Promise<FavoritesServiceClient>
  config: FavoritesConfig
  env: Record<string, string>
  stop(): Promise<void>
}

/** A fresh isolated environment (own schema, topics, key prefix) on the shared test servers. */
export const favoritesEnv = (extra: Record<string, string> = {}) => isolatedEnv('favorites', inject('infra').env, extra)

export const STAFF: TokenClaims = { sub: 'staff-test', roles: ['support', 'operator'] }

/** Migrates and starts the Favorites service in-process on port 0, waiting until its consumers joined. */
export async function startFavorites(env: Record<string, string>, options: AppOptions & { migrate?: boolean } = {}): Promise<Running> {
  const issuer = await testIssuer()
  const config = readConfig({ ...issuer.env, ...env })
  if (options.migrate !== false) await migrateFavorites(config, createLogger({ level: 'silent', service: 'test', instanceId: 'test' }))
  const app = await startApp(config, options)
  await app.ready
  const address = `127.0.0.1:${app.grpcPort}`
  const clients: FavoritesServiceClient[] = []
  const clientAs = async (claims: TokenClaims) => {
    const { credentials } = await import('@grpc/grpc-js')
    const c = new FavoritesServiceClient(address, credentials.createInsecure(), { interceptors: [bearer(await issuer.mint(claims))] })
    clients.push(c)
    return c
  }
  return {
    app,
    address,
    client: await clientAs(STAFF),
    issuer,
    clientAs,
    customer: (customerId) => clientAs({ sub: customerId, roles: ['customer'] }),
    config,
    env,
    async stop() {
      for (const c of clients) c.close()
      await app.stop()
    },
  }
}

export const cleanup = (env: Record<string, string>) => dropSchema(env)

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
  client: FavoritesServiceClient,
  customerId: string,
  overrides: Partial<AddFavoriteRequest> = {},
): Promise<Favorite> {
  const r = await unary<{ favorite?: Favorite }>((cb) => client.addFavorite(addRequest(customerId, overrides), cb))
  return r.favorite!
}
