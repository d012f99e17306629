import { FavoritesEvent } from '@brewmesh/gen/brewmesh/favorites/v1/events.ts'
import { PoisonMessage, type ReceivedMessage } from '@brewmesh/runtime/kafka/consumer.ts'
import type { FavoritesBus } from './favorites-bus.ts'
import { changeFromEvent } from './favorites-events.ts'

/**
 * Every replica reads the favorites topic (a consumer group per instance) to feed its open
 * WatchFavorites and SyncFavorites streams. Streams drop what they have already seen, so
 * redelivery is harmless and nothing is recorded in PostgreSQL.
 */
export function favoritesFeedHandler(bus: FavoritesBus) {
  return async ({ message }: ReceivedMessage): Promise<void> => {
    if (!message.value) throw new PoisonMessage('favorites event without a value')
    let event: FavoritesEvent
    try {
      event = FavoritesEvent.decode(message.value)
    } catch (err) {
      throw new PoisonMessage('not a brewmesh.favorites.v1.FavoritesEvent', { cause: err })
    }
    const change = changeFromEvent(event)
    if (change && event.customerId) bus.publish(event.customerId, change)
  }
}
