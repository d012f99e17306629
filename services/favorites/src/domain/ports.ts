import type { FieldViolation } from '@brewmesh/runtime/errors'
import type { CommittedOperation, DrinkCustomization, Favorite, LearnedDrink } from './favorite.ts'

/** A customer's favorites as read under the customer's lock. */
export interface CustomerFavorites {
  customerId: string
  /** The customer's favorites revision: 0 when nothing ever changed. */
  revision: number
  /** Changes at or below this revision can no longer be replayed (their tombstones were pruned). */
  prunedThrough: number
  /** Set once the customer-deleted event was applied: no more changes. */
  deletedAt: Date | undefined
  /** Live favorites, in list order. */
  live: Favorite[]
}

export type AckResult = 'applied' | 'conflict_overwritten' | 'conflict_lost' | 'duplicate' | 'rejected'

/** The answer to one SyncFavorites client change; stored so a resent change gets it again. */
export interface ClientChangeAck {
  clientChangeId: string
  result: AckResult
  favorite: Favorite | undefined
  removed: boolean
  revision: number
  overwritten: Favorite | undefined
  conflictingFields: string[]
  message: string
  fieldViolations: FieldViolation[]
}

/** One drink of a completed order, as the order-events consumer records it. */
export interface CompletedDrink {
  customerId: string
  orderId: string
  menuItemId: string
  displayName: string
  customization: DrinkCustomization
  completedAt: Date
}

/** What use cases need inside one transaction, implemented by db/favorites-store.ts. */
export interface FavoritesTx {
  /** Locks the customer's favorites until the transaction ends and reads them. */
  lock(customerId: string): Promise<CustomerFavorites>
  /**
   * Locks these customers' favorites until the transaction ends, in id order (a transaction that
   * then locks them one by one, in any order, never waits on another in a cycle).
   */
  lockAll(customerIds: readonly string[]): Promise<void>
  /** A favorite by id, tombstones included. */
  favorite(id: string): Promise<Favorite | undefined>
  /** Drinks completed since `since`, most completed first (ties: most recent). */
  learned(customerId: string, since: Date): Promise<LearnedDrink[]>
  /** Writes what one operation did: the favorites, the customer's new revision, its events (outbox). */
  commit(operation: CommittedOperation): Promise<void>
  /** Publishes a usual change that bumped no revision (a learned drink moved ahead). */
  recordUsualChange(operation: CommittedOperation): Promise<void>
  /**
   * Claims an AddFavorite idempotency key. Returns the earlier claim when the key was used
   * before (the caller compares hashes), undefined when this call claimed it.
   */
  claimRequest(
    key: string,
    requestHash: string,
    favoriteId: string,
    at: Date,
  ): Promise<{ requestHash: string; favoriteId: string } | undefined>
  clientChange(customerId: string, deviceId: string, clientChangeId: string): Promise<ClientChangeAck | undefined>
  saveClientChange(customerId: string, deviceId: string, ack: ClientChangeAck, at: Date): Promise<void>
  /** Records one drink of one completed order; false when that order already counted it. */
  recordCompletion(drink: CompletedDrink): Promise<boolean>
  /** Marks the customer deleted and forgets their completed drinks. */
  forgetCustomer(customerId: string, at: Date): Promise<void>
  /**
   * Records that a consumer applied these events (one statement); returns the items to apply:
   * those whose event was not applied before, each event once, in order.
   */
  claimEvents<T>(consumer: string, items: readonly T[], eventIdOf: (item: T) => string): Promise<T[]>
}

/** Favorites changed after a revision, for replays (WatchFavorites since_revision, SyncFavorites catch-up). */
export interface ChangesSince {
  /** Favorites (tombstones included) whose last change is after the revision, in revision order. */
  favorites: Favorite[]
  revision: number
  prunedThrough: number
}

export interface FavoritesStore {
  transaction<T>(work: (tx: FavoritesTx) => Promise<T>): Promise<T>
  /** Live favorites in list order and the revision they are at (one consistent read). */
  live(customerId: string): Promise<{ favorites: Favorite[]; revision: number }>
  /**
   * What the usual is made of, in one read (GetUsual, which needs no revision): the customer's live
   * favorites in list order and the drinks learned since `since` (as `learned` gives them).
   */
  usualInputs(customerId: string, since: Date): Promise<{ live: Favorite[]; learned: LearnedDrink[] }>
  changesSince(customerId: string, revision: number): Promise<ChangesSince>
  learned(customerId: string, since: Date): Promise<LearnedDrink[]>
  /** Deletes tombstones removed before `before`, advancing each customer's prunedThrough. */
  pruneTombstones(before: Date): Promise<number>
  /** Forgets AddFavorite request ids and SyncFavorites client change acks recorded before `before`. */
  pruneIdempotencyKeys(before: Date): Promise<number>
}

export interface FavoritesDeps {
  store: FavoritesStore
  clock: () => Date
  newId: () => string
  /** Length of the window learned drinks are counted over. */
  usualWindowDays: number
}
