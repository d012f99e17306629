import type { FavoritesServiceServer, ImportFavoritesRequest } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { authorize } from '@brewmesh/runtime/auth/access.ts'
import { callerOf, type CallAdapters, type CallContext } from '@brewmesh/runtime/grpc/calls.ts'
import type { RateLimiter } from '@brewmesh/runtime/rate-limit.ts'
import { ACTOR_KIND, type ChangeOrigin } from '../domain/favorite.ts'
import { addFavorite, favoriteOwner, getUsual, listFavorites, removeFavorite, setUsual, updateFavorite } from '../domain/favorites.ts'
import { importFavorites, readImport, type ImportMessage } from '../domain/import-favorites.ts'
import type { FavoritesDeps } from '../domain/ports.ts'
import type { FavoritesBus } from '../events/favorites-bus.ts'
import { drinkFromProto, favoriteToProto, favoriteValuesFromProto, usualToProto } from '../proto/favorites-mapper.ts'
import { ACCESS, type FavoritesRpc } from './access.ts'
import { syncFavorites } from './sync-favorites.ts'
import { watchFavorites } from './watch-favorites.ts'

async function* importMessages(requests: AsyncIterable<ImportFavoritesRequest>): AsyncIterable<ImportMessage> {
  for await (const r of requests) {
    const m = r.message
    if (m?.$case === 'header') yield { header: m.value }
    else if (m?.$case === 'row') yield { row: { rowNumber: Number(m.value.rowNumber), drink: drinkFromProto(m.value) } }
    else yield undefined
  }
}

/** Who made a change, from the verified caller. */
function originOf(ctx: CallContext, deviceId = ''): ChangeOrigin {
  const caller = callerOf(ctx)
  return { actor: { kind: ACTOR_KIND[caller.kind], id: caller.subject }, deviceId, clientChangeId: '' }
}

/** FavoritesService handlers: authorize, decode, call the use case, encode. Errors map in runtime/grpc/status.ts. */
export function favoritesService(
  deps: FavoritesDeps,
  bus: FavoritesBus,
  calls: CallAdapters,
  limitWrites: RateLimiter,
): FavoritesServiceServer {
  const { unary } = calls
  /**
   * Authorizes a call about one customer's favorites. The use case validates the id (with the rest of
   * the request); a customer token never matches a malformed one.
   */
  const allow = (ctx: CallContext, rpc: FavoritesRpc, customerId: string) => {
    authorize(callerOf(ctx), ACCESS[rpc], { customerId: customerId.toLowerCase() }, rpc)
    return customerId.toLowerCase()
  }
  const allowWrite = async (ctx: CallContext, rpc: FavoritesRpc, customerId: string) => {
    const id = allow(ctx, rpc, customerId)
    await limitWrites(callerOf(ctx))
    return id
  }

  return {
    addFavorite: unary('AddFavorite', async (r, ctx) => {
      await allowWrite(ctx, 'AddFavorite', r.customerId)
      return { favorite: favoriteToProto(await addFavorite(deps, originOf(ctx), r.requestId, r.customerId, drinkFromProto(r))) }
    }),
    updateFavorite: unary('UpdateFavorite', async (r, ctx) => {
      const id = r.favorite?.favoriteId ?? ''
      const owner = await allowWrite(ctx, 'UpdateFavorite', await favoriteOwner(deps, id, 'favorite.favorite_id'))
      const values = favoriteValuesFromProto(r.favorite)
      return {
        favorite: favoriteToProto(await updateFavorite(deps, originOf(ctx), owner, values, r.updateMask ?? [], Number(r.expectedRevision))),
      }
    }),
    removeFavorite: unary('RemoveFavorite', async (r, ctx) => {
      const owner = await allowWrite(ctx, 'RemoveFavorite', await favoriteOwner(deps, r.favoriteId))
      const { favorite, revision } = await removeFavorite(deps, originOf(ctx), owner, r.favoriteId, Number(r.expectedRevision))
      return { favorite: favoriteToProto(favorite), revision: String(revision) }
    }),
    listFavorites: unary('ListFavorites', async (r, ctx) => {
      const id = allow(ctx, 'ListFavorites', r.customerId)
      const page = await listFavorites(deps, id, r.pageSize, r.pageToken)
      return { favorites: page.favorites.map(favoriteToProto), nextPageToken: page.nextPageToken, revision: String(page.revision) }
    }),
    getUsual: unary('GetUsual', async (r, ctx) => {
      const id = allow(ctx, 'GetUsual', r.customerId)
      return { usual: usualToProto(await getUsual(deps, id)) }
    }),
    setUsual: unary('SetUsual', async (r, ctx) => {
      const id = await allowWrite(ctx, 'SetUsual', r.customerId)
      const { usual, revision } = await setUsual(deps, originOf(ctx), id, r.favoriteId, Number(r.expectedRevision))
      return { usual: usualToProto(usual), revision: String(revision) }
    }),
    watchFavorites: calls.serverStream('WatchFavorites', async (r, send, ctx) => {
      const id = allow(ctx, 'WatchFavorites', r.customerId)
      await watchFavorites(deps, bus)(id, Number(r.sinceRevision), send, ctx)
    }),
    importFavorites: calls.clientStream('ImportFavorites', async (requests, ctx) => {
      const { header, rows } = await readImport(importMessages(requests), async (h) => {
        await allowWrite(ctx, 'ImportFavorites', h.customerId)
      })
      const s = await importFavorites(deps, originOf(ctx, header.deviceId), header, rows)
      return {
        received: String(s.received),
        imported: String(s.imported),
        duplicates: String(s.duplicates),
        failed: String(s.failed),
        failures: s.failures.map((f) => ({ rowNumber: String(f.rowNumber), reason: f.reason, fields: f.fields })),
        favorites: s.favorites.map(favoriteToProto),
        revision: String(s.revision),
      }
    }),
    syncFavorites: calls.bidi('SyncFavorites', (requests, send, ctx) =>
      syncFavorites(
        deps,
        bus,
        (customerId) => void allow(ctx, 'SyncFavorites', customerId),
        (deviceId) => originOf(ctx, deviceId),
      )(requests, send, ctx),
    ),
  }
}
