import type { FavoriteChange } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import type { WatchFavoritesResponse } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { AsyncQueue } from '@brewmesh/runtime/async-queue.ts'
import type { CallContext, Send } from '@brewmesh/runtime/grpc/calls.ts'
import type { FavoritesDeps } from '../domain/ports.ts'
import { catchUp, ChangeCursor } from '../domain/replay.ts'
import { requireUuid } from '../domain/validation.ts'
import type { FavoritesBus } from '../events/favorites-bus.ts'
import { changeToProto, snapshotToProto } from '../proto/favorites-mapper.ts'

/** Changes a slow watcher may fall behind by before its stream is ended. */
const MAX_PENDING = 1000

/**
 * Server streaming: subscribes before reading, so no change falls between the catch-up and the
 * live feed; the cursor drops what the catch-up already covered and Kafka redeliveries.
 */
export function watchFavorites(deps: FavoritesDeps, bus: FavoritesBus) {
  return async (customerId: string, sinceRevision: number, send: Send<WatchFavoritesResponse>, ctx: CallContext): Promise<void> => {
    requireUuid(customerId, 'customer_id')
    const queue = new AsyncQueue<FavoriteChange>(MAX_PENDING, ctx.signal)
    const unsubscribe = bus.subscribe(customerId, (change) => void queue.push(change))
    try {
      const start = await catchUp(deps, customerId, sinceRevision)
      let cursor: ChangeCursor
      if (start.kind === 'snapshot') {
        cursor = new ChangeCursor(start.snapshot.revision)
        if (!(await send({ event: { $case: 'snapshot', value: snapshotToProto(start.snapshot) } }))) return
      } else {
        cursor = new ChangeCursor(start.revision)
        for (const c of start.changes) {
          if (!(await send({ event: { $case: 'change', value: changeToProto(c, c.favorite.updatedAt, c.favorite.updatedFromDeviceId) } })))
            return
        }
      }
      for await (const change of queue) {
        if (!cursor.accept(Number(change.revision), change.favorite?.favoriteId ?? '')) continue
        if (!(await send({ event: { $case: 'change', value: change } }))) return
      }
    } finally {
      unsubscribe()
    }
  }
}
