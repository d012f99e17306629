/** The favorites model as the domain sees it: plain data, no transport or storage types. */

export interface DrinkCustomization {
  size: number
  milk: number
  extraShots: number
  syrups: string[]
  temperature: number
  sweetness: number
}

/** Who made a change; kind is the ActorKind enum value (1 customer, 2 staff, 3 service, 4 system). */
export interface Actor {
  kind: number
  id: string
}

export const ACTOR_KIND = { customer: 1, staff: 2, service: 3, system: 4 } as const

/** What a favorite is made of: the drink and how the customer names and orders it. */
export interface DrinkInput {
  menuItemId: string
  displayName: string
  customization: DrinkCustomization
  nickname: string
  /** undefined: last. */
  position: number | undefined
  pinned: boolean
}

export interface Favorite {
  id: string
  customerId: string
  menuItemId: string
  displayName: string
  customization: DrinkCustomization
  nickname: string
  position: number
  /** The customer's favorites revision at this favorite's last change. */
  revision: number
  /** The revision that added it (tells "added" from "updated" when replaying changes). */
  createdRevision: number
  pinned: boolean
  createdAt: Date
  updatedAt: Date
  updatedBy: Actor
  updatedFromDeviceId: string
  /** Set on tombstones: when the favorite was removed. */
  removedAt: Date | undefined
}

/** Fields an update may write (UpdateFavorite; SyncFavorites also allows `pinned`). */
export const UPDATABLE_FIELDS = ['menu_item_id', 'display_name', 'customization', 'nickname', 'position'] as const
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number] | 'pinned'

export const FAVORITES_LIMIT = 100
/** The highest revision the store keeps (a PostgreSQL integer): a later one is ahead of the server. */
export const MAX_REVISION = 2_147_483_647
/** Positions a caller may give; lists keep growing past the last one by one per favorite. */
export const MAX_POSITION = 1_000_000

export const NO_CUSTOMIZATION: DrinkCustomization = { size: 0, milk: 0, extraShots: 0, syrups: [], temperature: 0, sweetness: 0 }

/** Syrups compared as a set: trimmed, lower case, sorted, no duplicates. */
export const normalizeSyrups = (syrups: readonly string[]) => [...new Set(syrups.map((s) => s.trim().toLowerCase()))].sort()

/**
 * Identifies a drink: the same menu item made the same way. Two favorites of one customer never
 * share it, and learned drinks are counted by it.
 */
export function drinkKey(menuItemId: string, c: DrinkCustomization): string {
  return [menuItemId.toLowerCase(), c.size, c.milk, c.extraShots, normalizeSyrups(c.syrups).join('+'), c.temperature, c.sweetness].join('|')
}

export const favoriteDrinkKey = (f: Pick<Favorite, 'menuItemId' | 'customization'>) => drinkKey(f.menuItemId, f.customization)

/** Lists order: position, then created_at, then id. */
export function byPosition(a: Favorite, b: Favorite): number {
  return a.position - b.position || a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/** A drink learned from completed orders, counted over the usual window. */
export interface LearnedDrink {
  customerId: string
  menuItemId: string
  displayName: string
  customization: DrinkCustomization
  completedCount: number
  firstOrderedAt: Date
  lastOrderedAt: Date
  lastOrderId: string
  /** The live favorite with the same drink, when there is one. */
  favoriteId: string
}

export interface UsualWindow {
  startAt: Date
  endAt: Date
  days: number
}

export type Usual =
  | { source: 'pinned'; favorite: Favorite; completedCount: number; window: UsualWindow }
  | { source: 'learned'; learned: LearnedDrink; completedCount: number; window: UsualWindow }

/** One change to one favorite; an operation's changes share its revision. */
export interface FavoriteChange {
  kind: 'added' | 'updated' | 'removed'
  revision: number
  favorite: Favorite
  /** For updated: the favorite before. */
  previous: Favorite | undefined
  /** For updated: proto field names that changed. */
  changedFields: string[]
  /** For removed: why. */
  reason: string
}

export type UsualCause = 'pinned' | 'unpinned' | 'pinned_removed' | 'pinned_updated' | 'learned'

export interface UsualChange {
  cause: UsualCause
  previous: Usual | undefined
  usual: Usual | undefined
}

/** Where a change came from, recorded on favorites and events. */
export interface ChangeOrigin {
  actor: Actor
  deviceId: string
  clientChangeId: string
}

/** Everything one committed operation did, as published (one event per favorite, then the usual). */
export interface CommittedOperation {
  customerId: string
  revision: number
  origin: ChangeOrigin
  changes: FavoriteChange[]
  usualChange: UsualChange | undefined
  at: Date
}
