import type { FavoriteChange } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import type { FavoritesServiceService, ImportFavoritesRequest } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { invalid } from '@brewmesh/runtime/errors'
import { messageViolations, type Call, type Routes } from '@brewmesh/runtime/grpc'
import { uuidOf } from '@brewmesh/runtime/ids'
import type { FanOut } from '@brewmesh/runtime/streams'
import { ACTOR_KIND, type ChangeOrigin } from '../domain/favorite.ts'
import { addFavorite, favoriteOwner, getUsual, listFavorites, removeFavorite, setUsual, updateFavorite } from '../domain/favorites.ts'
import { importFavorites, readImport, type ImportMessage } from '../domain/import-favorites.ts'
import type { FavoritesDeps } from '../domain/ports.ts'
import { drinkFromProto, favoriteToProto, favoriteValuesFromProto, usualToProto } from '../proto/favorites-mapper.ts'
import { ACCESS } from './access.ts'
import { syncFavorites } from './sync-favorites.ts'
import { watchFavorites } from './watch-favorites.ts'

/** The upload as the domain reads it: a row the contract's limits refused travels with its violations. */
async function* importMessages(requests: AsyncIterable<ImportFavoritesRequest>): AsyncIterable<ImportMessage> {
  for await (const r of requests) {
    const m = r.message
    const refused = messageViolations(r)
    if (m?.$case === 'header') {
      if (refused.length > 0) throw invalid(refused)
      yield { header: m.value }
    } else if (m?.$case === 'row') yield { row: { rowNumber: Number(m.value.rowNumber), drink: drinkFromProto(m.value), refused } }
    else yield undefined
  }
}

/** Who made a change, from the verified caller. */
const originOf = (call: Call, deviceId = ''): ChangeOrigin => ({
  actor: { kind: ACTOR_KIND[call.caller.kind], id: call.caller.subject },
  deviceId,
  clientChangeId: '',
})

/** Most requests are about one customer's favorites: the target of the access rules. */
const aboutCustomer = (r: { customerId: string }) => ({ customerId: r.customerId.toLowerCase() })

/** FavoritesService: one route per RPC (access rule, writes, handler). Errors map in runtime/grpc/status.ts. */
export function favoritesRoutes(deps: FavoritesDeps, changes: FanOut<FavoriteChange>): Routes<typeof FavoritesServiceService> {
  return {
    addFavorite: {
      access: ACCESS.AddFavorite,
      about: aboutCustomer,
      write: true,
      handle: async (r, call) => ({
        favorite: favoriteToProto(await addFavorite(deps, originOf(call), r.requestId, r.customerId, drinkFromProto(r))),
      }),
    },
    updateFavorite: {
      access: ACCESS.UpdateFavorite,
      // The owner comes from the stored favorite.
      about: 'handler',
      write: true,
      async handle(r, call) {
        const owner = await favoriteOwner(deps, r.favorite?.favoriteId ?? '', 'favorite.favorite_id')
        call.authorize({ customerId: owner })
        const values = favoriteValuesFromProto(r.favorite)
        const updated = await updateFavorite(deps, originOf(call), owner, values, r.updateMask ?? [], Number(r.expectedRevision))
        return { favorite: favoriteToProto(updated) }
      },
    },
    removeFavorite: {
      access: ACCESS.RemoveFavorite,
      about: 'handler',
      write: true,
      async handle(r, call) {
        const owner = await favoriteOwner(deps, r.favoriteId)
        call.authorize({ customerId: owner })
        const { favorite, revision } = await removeFavorite(deps, originOf(call), owner, r.favoriteId, Number(r.expectedRevision))
        return { favorite: favoriteToProto(favorite), revision: String(revision) }
      },
    },
    listFavorites: {
      access: ACCESS.ListFavorites,
      about: aboutCustomer,
      async handle(r) {
        const page = await listFavorites(deps, r.customerId.toLowerCase(), r.pageSize, r.pageToken)
        return { favorites: page.favorites.map(favoriteToProto), nextPageToken: page.nextPageToken, revision: String(page.revision) }
      },
    },
    getUsual: {
      access: ACCESS.GetUsual,
      about: aboutCustomer,
      handle: async (r) => ({ usual: usualToProto(await getUsual(deps, r.customerId.toLowerCase())) }),
    },
    setUsual: {
      access: ACCESS.SetUsual,
      about: aboutCustomer,
      write: true,
      async handle(r, call) {
        const { usual, revision } = await setUsual(
          deps,
          originOf(call),
          r.customerId.toLowerCase(),
          r.favoriteId,
          Number(r.expectedRevision),
        )
        return { usual: usualToProto(usual), revision: String(revision) }
      },
    },
    watchFavorites: {
      access: ACCESS.WatchFavorites,
      about: aboutCustomer,
      handle: (r, call) => watchFavorites(deps, changes, uuidOf(r.customerId, 'customer_id'), Number(r.sinceRevision), call.signal),
    },
    importFavorites: {
      access: ACCESS.ImportFavorites,
      // The customer is in the header, the first message.
      about: 'handler',
      write: true,
      invalidMessages: 'deliver',
      async handle(requests, call) {
        const { header, rows } = await readImport(importMessages(requests), async (h) =>
          call.authorize({ customerId: h.customerId.toLowerCase() }),
        )
        const s = await importFavorites(deps, originOf(call, header.deviceId), header, rows)
        return {
          received: String(s.received),
          imported: String(s.imported),
          duplicates: String(s.duplicates),
          failed: String(s.failed),
          failures: s.failures.map((f) => ({ rowNumber: String(f.rowNumber), reason: f.reason, fields: f.fields })),
          favorites: s.favorites.map(favoriteToProto),
          revision: String(s.revision),
        }
      },
    },
    syncFavorites: {
      access: ACCESS.SyncFavorites,
      // The customer is in the hello, the first message.
      about: 'handler',
      handle: (requests, call) => syncFavorites(deps, changes, requests, call, (deviceId) => originOf(call, deviceId)),
    },
  }
}
