import { credentials, type ChannelCredentials, type Interceptor } from '@grpc/grpc-js'
import { FavoritesServiceClient, type GetUsualResponse } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import type { Favorites } from '../domain/ports.ts'
import { channelOptions, outboundCalls, type Dependency } from './outbound.ts'

/** The Favorites service: "my usual" (a pinned favorite or a learned drink). */
export function favoritesClient(
  dep: Dependency,
  auth: Interceptor,
  channel: ChannelCredentials = credentials.createInsecure(),
): Favorites & { close(): void } {
  const client = new FavoritesServiceClient(dep.target, channel, {
    ...channelOptions('brewmesh.favorites.v1.FavoritesService', ['GetUsual']),
    interceptors: [auth],
  })
  const favorites = outboundCalls('favorites', dep)
  return {
    async usual(customerId, budget) {
      const r = await favorites.find<GetUsualResponse>((md, opts, cb) => client.getUsual({ customerId }, md, opts, cb), budget)
      const drink = r?.usual?.drink
      if (drink?.$case === 'favorite')
        return { menuItemId: drink.value.menuItemId, customization: drink.value.customization, favoriteId: drink.value.favoriteId }
      if (drink?.$case === 'learned')
        return { menuItemId: drink.value.menuItemId, customization: drink.value.customization, favoriteId: '' }
      return undefined
    },
    close: () => client.close(),
  }
}
