import type { FavoriteChange } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import type { WatchFavoritesResponse } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import type { FanOut } from '@brewmesh/runtime/streams'
import { AsyncQueue } from '@brewmesh/runtime/streams'
import type { FavoritesDeps } from '../domain/ports.ts'
import { catchUp, ChangeCursor } from '../domain/replay.ts'
import { changeToProto, snapshotToProto } from '../proto/favorites-mapper.ts'

/** Changes a slow watcher may fall behind by before its stream is ended. */
const MAX_PENDING = 1000

/**
 * Server streaming: subscribes before reading, so no change falls between the catch-up and the
 * live feed; the cursor drops what the catch-up already covered and Kafka redeliveries.
 */
export async function* watchFavorites(
  deps: FavoritesDeps,
  changes: FanOut<FavoriteChange>,
  customerId: string,
  sinceRevision: number,
  signal: AbortSignal,
): AsyncIterable<WatchFavoritesResponse> {
  const queue = new AsyncQueue<FavoriteChange>(MAX_PENDING, signal)
  const unsubscribe = changes.subscribe(customerId, (change) => void queue.push(change))
  try {
    await changes.live() // a feed that slept for want of streams fetches again first
    const start = await catchUp(deps, customerId, sinceRevision)
    let cursor: ChangeCursor
    if (start.kind === 'snapshot') {
      cursor = new ChangeCursor(start.snapshot.revision)
      yield { event: { $case: 'snapshot', value: snapshotToProto(start.snapshot) } }
    } else {
      cursor = new ChangeCursor(start.revision)
      for (const c of start.changes)
        yield { event: { $case: 'change', value: changeToProto(c, c.favorite.updatedAt, c.favorite.updatedFromDeviceId) } }
    }
    for await (const change of queue) {
      if (cursor.accept(Number(change.revision), change.favorite?.favoriteId ?? '')) yield { event: { $case: 'change', value: change } }
    }
  } finally {
    unsubscribe()
  }
}
