import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { grpcurlAt } from '@brewmesh/testkit/grpcurl.ts'
import { cleanup, favoritesEnv, MENU, startFavorites, type Running } from './support.ts'

let svc: Running
let token = ''
const env = favoritesEnv()
const { grpcurl, call, failureOf } = grpcurlAt(() => svc.address)
beforeAll(async () => {
  svc = await startFavorites(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

describe('grpcurl against the running Favorites service', () => {
  it('lists exactly the services this server serves, and describes all four call modes', async () => {
    expect((await grpcurl([], 'list')).trim().split('\n').sort()).toEqual([
      'brewmesh.favorites.v1.FavoritesService',
      'grpc.health.v1.Health',
    ])
    const service = await grpcurl([], 'describe', 'brewmesh.favorites.v1.FavoritesService')
    expect(service).toContain(
      'rpc WatchFavorites ( .brewmesh.favorites.v1.WatchFavoritesRequest ) returns ( stream .brewmesh.favorites.v1.WatchFavoritesResponse );',
    )
    expect(service).toContain(
      'rpc ImportFavorites ( stream .brewmesh.favorites.v1.ImportFavoritesRequest ) returns ( .brewmesh.favorites.v1.ImportFavoritesResponse );',
    )
    expect(service).toContain(
      'rpc SyncFavorites ( stream .brewmesh.favorites.v1.SyncFavoritesRequest ) returns ( stream .brewmesh.favorites.v1.SyncFavoritesResponse );',
    )
  })

  it('adds a favorite, pins it and reads the usual as the customer, and checks health', async () => {
    const customerId = randomUUID()
    token = await svc.issuer.mint({ sub: customerId, roles: ['customer'] })
    const added = await call<{ favorite: { favoriteId: string; revision: string } }>(
      token,
      {
        request_id: randomUUID(),
        customer_id: customerId,
        menu_item_id: MENU.latte,
        display_name: 'Caffè Latte',
        customization: { size: 'DRINK_SIZE_LARGE', milk: 'MILK_TYPE_OAT' },
        pinned: true,
      },
      'brewmesh.favorites.v1.FavoritesService/AddFavorite',
    )
    expect(added.favorite.revision).toBe('1')
    const usual = await call<{ usual: { source: string; favorite: { favoriteId: string } } }>(
      token,
      { customer_id: customerId },
      'brewmesh.favorites.v1.FavoritesService/GetUsual',
    )
    expect(usual.usual).toMatchObject({ source: 'USUAL_SOURCE_PINNED', favorite: { favoriteId: added.favorite.favoriteId } })
    expect(JSON.parse(await grpcurl([], 'grpc.health.v1.Health/Check'))).toEqual({ status: 'SERVING' })
  })

  it('shows field violations for a bad request and refuses a call without a token', async () => {
    const staff = await svc.issuer.mint({ sub: 'support-1', roles: ['support'] })
    const bad = await failureOf(call(staff, { customer_id: 'nope' }, 'brewmesh.favorites.v1.FavoritesService/AddFavorite'))
    expect(bad).toContain('InvalidArgument')
    expect(bad).toContain('"field": "customer_id"')
    expect(await failureOf(grpcurl(['-d', '{}'], 'brewmesh.favorites.v1.FavoritesService/ListFavorites'))).toContain('Unauthenticated')
  })
})
