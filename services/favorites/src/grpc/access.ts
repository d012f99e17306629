import type { Rule } from '@brewmesh/runtime/grpc'

/**
 * Who may call what on the Favorites service (documented in the service README).
 * self: the customer whose favorites they are. Baristas read a customer's usual at the counter;
 * the Order Service ("order") resolves "my usual" lines through GetUsual.
 */
export const ACCESS = {
  AddFavorite: { self: true, staff: ['support', 'operator'] },
  UpdateFavorite: { self: true, staff: ['support', 'operator'] },
  RemoveFavorite: { self: true, staff: ['support', 'operator'] },
  ListFavorites: { self: true, staff: ['barista', 'support', 'operator'], services: ['order'] },
  GetUsual: { self: true, staff: ['barista', 'support', 'operator'], services: ['order'] },
  SetUsual: { self: true, staff: ['support', 'operator'] },
  WatchFavorites: { self: true, staff: ['support', 'operator'] },
  ImportFavorites: { self: true, staff: ['operator'] },
  SyncFavorites: { self: true },
} as const satisfies Record<string, Rule>

export type FavoritesRpc = keyof typeof ACCESS
