import { FavoritesEvent } from '@brewmesh/gen/brewmesh/favorites/v1/events.ts'
import type { FavoriteChange } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import { decodeOrPoison, type BatchHandler } from '@brewmesh/runtime/kafka'
import type { FanOut } from '@brewmesh/runtime/streams'
import { changeFromEvent } from './favorites-events.ts'

/**
 * Every replica reads the favorites topic (a consumer group per instance) to feed its open
 * WatchFavorites and SyncFavorites streams, a chunk at a time. Streams drop what they have
 * already seen, so redelivery is harmless and nothing is recorded in PostgreSQL.
 */
export function favoritesFeedHandler(
  changes: FanOut<FavoriteChange>,
): BatchHandler<{ customerId: string; change: FavoriteChange } | undefined> {
  return {
    decode: (received) => {
      const event = decodeOrPoison(received, FavoritesEvent, 'brewmesh.favorites.v1.FavoritesEvent')
      const change = changeFromEvent(event)
      return change && event.customerId ? { customerId: event.customerId, change } : undefined
    },
    handleBatch: async (items) => {
      for (const { value } of items) if (value) changes.publish(value.customerId, value.change)
    },
  }
}
