import { alreadyExists, precondition } from '@brewmesh/runtime/errors'
import {
  byPosition,
  drinkKey,
  FAVORITES_LIMIT,
  favoriteDrinkKey,
  type ChangeOrigin,
  type DrinkInput,
  type Favorite,
  type FavoriteChange,
  type UpdatableField,
} from './favorite.ts'
import type { CustomerFavorites } from './ports.ts'
import { REASONS } from './reasons.ts'

/** The new values an update writes, for the fields it names. */
export type FavoritePatch = Partial<Pick<Favorite, 'menuItemId' | 'displayName' | 'customization' | 'nickname' | 'position' | 'pinned'>>

const FIELD_OF: Record<UpdatableField, keyof FavoritePatch> = {
  menu_item_id: 'menuItemId',
  display_name: 'displayName',
  customization: 'customization',
  nickname: 'nickname',
  position: 'position',
  pinned: 'pinned',
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** The proto field names whose values differ between two versions of a favorite. */
export function changedFields(before: Favorite, after: Favorite): UpdatableField[] {
  return (Object.keys(FIELD_OF) as UpdatableField[]).filter((f) => !same(before[FIELD_OF[f]], after[FIELD_OF[f]]))
}

/**
 * One operation on one customer's favorites, worked out in memory under the customer's lock: every
 * change it makes gets the same new revision. Pure: the caller commits `changes` when there are any.
 */
export class Edit {
  readonly revision: number
  private readonly live: Map<string, Favorite>
  private readonly byChange = new Map<string, FavoriteChange>()
  private readonly state: CustomerFavorites
  private readonly origin: ChangeOrigin
  private readonly now: Date
  private readonly newId: () => string

  constructor(state: CustomerFavorites, origin: ChangeOrigin, now: Date, newId: () => string) {
    this.state = state
    this.origin = origin
    this.now = now
    this.newId = newId
    this.revision = state.revision + 1
    this.live = new Map(state.live.map((f) => [f.id, f]))
  }

  get customerId(): string {
    return this.state.customerId
  }

  /** Live favorites as the operation has left them, in list order. */
  favorites(): Favorite[] {
    return [...this.live.values()].sort(byPosition)
  }

  get(id: string): Favorite | undefined {
    return this.live.get(id)
  }

  pinned(): Favorite | undefined {
    return [...this.live.values()].find((f) => f.pinned)
  }

  /** The live favorite making the same drink, if any. */
  withDrink(menuItemId: string, customization: Favorite['customization'], except?: string): Favorite | undefined {
    const key = drinkKey(menuItemId, customization)
    return [...this.live.values()].find((f) => f.id !== except && favoriteDrinkKey(f) === key)
  }

  /** Every change so far, one per favorite touched. */
  get changes(): FavoriteChange[] {
    return [...this.byChange.values()]
  }

  /** Adds a drink (normalized and valid). ALREADY_EXISTS for a drink the customer has; FAILED_PRECONDITION at the limit. */
  add(input: DrinkInput, id = this.newId()): Favorite {
    const existing = this.withDrink(input.menuItemId, input.customization)
    if (existing) throw alreadyExists(`favorite ${existing.id} is already this drink`, existing.id)
    if (this.live.size >= FAVORITES_LIMIT) throw precondition(`favorite limit (${FAVORITES_LIMIT}) reached`, REASONS.favoriteLimit)
    const last = Math.max(-1, ...[...this.live.values()].map((f) => f.position))
    const favorite: Favorite = {
      id,
      customerId: this.state.customerId,
      menuItemId: input.menuItemId,
      displayName: input.displayName,
      customization: input.customization,
      nickname: input.nickname,
      position: input.position ?? last + 1,
      revision: this.revision,
      createdRevision: this.revision,
      pinned: false,
      createdAt: this.now,
      ...this.stamp(),
      removedAt: undefined,
    }
    this.live.set(favorite.id, favorite)
    this.byChange.set(favorite.id, { kind: 'added', revision: this.revision, favorite, previous: undefined, changedFields: [], reason: '' })
    if (input.pinned) this.pin(favorite.id)
    return this.live.get(favorite.id) ?? favorite
  }

  /** Writes the patch to a live favorite. ALREADY_EXISTS when its new drink is another favorite's. */
  update(id: string, patch: FavoritePatch): Favorite {
    const before = this.mustGet(id)
    const { pinned, ...fields } = patch
    const after: Favorite = { ...before, ...fields }
    const duplicate = this.withDrink(after.menuItemId, after.customization, id)
    if (duplicate) throw alreadyExists(`favorite ${duplicate.id} is already this drink`, duplicate.id)
    this.write(before, after)
    if (pinned === true) this.pin(id)
    if (pinned === false && before.pinned) this.pin(undefined)
    return this.mustGet(id)
  }

  /** Pins a favorite (unpinning any other) or, with undefined, clears the pin. */
  pin(id: string | undefined): void {
    for (const f of [...this.live.values()]) {
      const pinned = f.id === id
      if (f.pinned !== pinned) this.write(f, { ...f, pinned })
    }
  }

  /** Removes a live favorite, leaving a tombstone. */
  remove(id: string, reason: string): Favorite {
    const before = this.mustGet(id)
    const tombstone: Favorite = { ...before, revision: this.revision, ...this.stamp(), removedAt: this.now }
    this.live.delete(id)
    const earlier = this.byChange.get(id)
    this.byChange.set(id, {
      kind: 'removed',
      revision: this.revision,
      favorite: tombstone,
      previous: earlier?.previous ?? before,
      changedFields: [],
      reason,
    })
    return tombstone
  }

  private mustGet(id: string): Favorite {
    const f = this.live.get(id)
    if (!f) throw new Error(`favorite ${id} is not live in this edit`)
    return f
  }

  private stamp() {
    return { updatedAt: this.now, updatedBy: this.origin.actor, updatedFromDeviceId: this.origin.deviceId }
  }

  /** Records `before` → `after` as one change per favorite: an add stays an add, updates merge. */
  private write(before: Favorite, after: Favorite): void {
    const fields = changedFields(before, after)
    if (fields.length === 0) return
    const next: Favorite = { ...after, revision: this.revision, ...this.stamp() }
    this.live.set(next.id, next)
    const earlier = this.byChange.get(next.id)
    if (earlier?.kind === 'added') {
      earlier.favorite = next
      return
    }
    const previous = earlier?.previous ?? before
    const merged = [...new Set([...(earlier?.changedFields ?? []), ...fields])]
    this.byChange.set(next.id, { kind: 'updated', revision: this.revision, favorite: next, previous, changedFields: merged, reason: '' })
  }
}

/** Reads the fields an update mask names from a partial favorite. */
export function patchOf(values: FavoritePatch, fields: readonly UpdatableField[]): FavoritePatch {
  const patch: FavoritePatch = {}
  for (const f of fields) Object.assign(patch, { [FIELD_OF[f]]: values[FIELD_OF[f]] })
  return patch
}
