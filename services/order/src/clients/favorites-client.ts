import { credentials, status as Code, type ChannelCredentials, type Interceptor } from '@grpc/grpc-js'
import { FavoritesServiceClient, type GetUsualResponse } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import type { Favorites } from '../domain/ports.ts'
import { call, channelOptions, deadlineFor, dependencyError, type Dependency } from './outbound.ts'

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
  return {
    async usual(customerId, budget) {
      try {
        const r = await call<GetUsualResponse>(
          (md, opts, cb) => client.getUsual({ customerId }, md, opts, cb),
          deadlineFor(budget, dep.timeoutMs),
        )
        const drink = r.usual?.drink
        if (drink?.$case === 'favorite')
          return { menuItemId: drink.value.menuItemId, customization: drink.value.customization, favoriteId: drink.value.favoriteId }
        if (drink?.$case === 'learned')
          return { menuItemId: drink.value.menuItemId, customization: drink.value.customization, favoriteId: '' }
        return undefined
      } catch (err) {
        if ((err as { code?: number }).code === Code.NOT_FOUND) return undefined
        throw dependencyError('favorites', err)
      }
    },
    close: () => client.close(),
  }
}
