import { randomUUID } from 'node:crypto'
import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Favorite } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import {
  FavoritesServiceService,
  type ImportFavoritesRequest,
  type SyncFavoritesRequest,
} from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { accessCases } from '@brewmesh/testkit/access-matrix.ts'
import { customer } from '@brewmesh/testkit/principals.ts'
import { bearer } from '@brewmesh/testkit/tokens.ts'
import { ACCESS } from '../src/grpc/access.ts'
import { addFavorite, addRequest, cleanup, favoritesEnv, MENU, startFavorites, type FavoritesClient, type Running } from './support.ts'

let svc: Running
const env = favoritesEnv()
const member = randomUUID() // the customer the calls are about
const household = randomUUID()
let favorite: Favorite

beforeAll(async () => {
  svc = await startFavorites(env)
  favorite = await addFavorite(svc.client, member, { pinned: true })
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const clients: FavoritesClient[] = []
const withToken = (token?: string) => {
  const c = createClient(FavoritesServiceService, svc.address, credentials.createInsecure(), token ? { interceptors: [bearer(token)] } : {})
  clients.push(c)
  return c
}
afterAll(() => clients.forEach((c) => c.close()))

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => status.OK,
    (err: ServiceError) => err.code,
  )
/** A stream's outcome: its first message (then the call is cancelled), or its status. */
const firstOf = async (messages: AsyncIterable<unknown>) => {
  for await (const _ of messages) return
}

/** Every RPC, about `member`. */
const RPCS: Record<keyof typeof ACCESS, (c: FavoritesClient) => Promise<unknown>> = {
  AddFavorite: (c) => c.addFavorite(addRequest(member, { menuItemId: randomUUID() })),
  UpdateFavorite: (c) => c.updateFavorite({ favorite: { ...favorite, nickname: 'auth' }, updateMask: ['nickname'], expectedRevision: '0' }),
  // A stale expected revision: authorized, then ABORTED, so the favorite stays for the other cases.
  RemoveFavorite: (c) => c.removeFavorite({ favoriteId: favorite.favoriteId, expectedRevision: '999' }),
  ListFavorites: (c) => c.listFavorites({ customerId: member, pageSize: 0, pageToken: '' }),
  GetUsual: (c) => c.getUsual({ customerId: member }),
  SetUsual: (c) => c.setUsual({ customerId: member, favoriteId: favorite.favoriteId, expectedRevision: '0' }),
  WatchFavorites: (c) => firstOf(c.watchFavorites({ customerId: member, sinceRevision: '0' })),
  ImportFavorites: (c) =>
    c.importFavorites([
      { message: { $case: 'header', value: { customerId: member, deviceId: 'd1' } } },
      { message: { $case: 'row', value: { rowNumber: '1', menuItemId: MENU.chai, displayName: 'Chai', nickname: '', pinned: false } } },
    ] satisfies ImportFavoritesRequest[]),
  SyncFavorites: (c) =>
    firstOf(
      c.syncFavorites([
        { message: { $case: 'hello', value: { customerId: member, deviceId: 'd1', lastRevision: '0' } } },
      ] satisfies SyncFavoritesRequest[]),
    ),
}

describe('authentication and authorization, for every FavoritesService RPC', () => {
  for (const [rpc, call] of Object.entries(RPCS) as [keyof typeof ACCESS, (c: FavoritesClient) => Promise<unknown>][]) {
    it(`${rpc}: no token and an expired token are UNAUTHENTICATED; every caller its access rule names passes, every other is PERMISSION_DENIED`, async () => {
      expect(await codeOf(call(withToken()))).toBe(status.UNAUTHENTICATED)
      expect(await codeOf(call(withToken(await svc.issuer.mint(customer(member), { expiresIn: -120 }))))).toBe(status.UNAUTHENTICATED)
      const passed = rpc === 'RemoveFavorite' ? status.ABORTED : status.OK
      for (const c of accessCases(ACCESS[rpc], member, household)) {
        const code = await codeOf(call(withToken(await svc.issuer.mint(c.claims))))
        expect({ caller: c.who, code }).toEqual({ caller: c.who, code: c.allowed ? passed : status.PERMISSION_DENIED })
      }
    })
  }
})
