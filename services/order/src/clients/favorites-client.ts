import { FavoritesServiceService } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import type { Favorites } from '../domain/ports.ts'
import type { Outbound } from '@brewmesh/runtime/auth'
import { connect, type Dependency } from './dependency.ts'

/** The Favorites service: "my usual" (a pinned favorite or a learned drink). */
export function favoritesClient(dep: Dependency, outbound: Outbound): Favorites & { close(): void } {
  const { client, calls } = connect('favorites', FavoritesServiceService, dep, outbound, ['getUsual'])
  return {
    async usual(customerId, budget) {
      const r = await calls.find((options) => client.getUsual({ customerId }, options), budget)
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
