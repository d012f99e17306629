import { createHash } from 'node:crypto'
import { aborted, invalid, notFound, Violations } from '@brewmesh/runtime/errors'
import { pageSize, pageTokens, positionOf } from '@brewmesh/runtime/paging'
import { patchOf } from './edit.ts'
import {
  byPosition,
  FAVORITES_LIMIT,
  MAX_POSITION,
  UPDATABLE_FIELDS,
  type ChangeOrigin,
  type DrinkInput,
  type Favorite,
  type UpdatableField,
  type Usual,
} from './favorite.ts'
import { operate } from './operation.ts'
import type { FavoritesDeps } from './ports.ts'
import { usualOf, usualWindow } from './usual.ts'
import { checkDrink, checkKey, normalizeDrink } from './validation.ts'
import { checkUuid, uuidOf } from '@brewmesh/runtime/ids'
import { REASONS } from './reasons.ts'

const requestHash = (customerId: string, input: DrinkInput) =>
  createHash('sha256')
    .update(JSON.stringify([customerId, input]))
    .digest('hex')

export async function addFavorite(
  deps: FavoritesDeps,
  origin: ChangeOrigin,
  requestId: string,
  customerId: string,
  raw: DrinkInput,
): Promise<Favorite> {
  const input = normalizeDrink(raw)
  const v = new Violations()
  checkKey(v, requestId, 'request_id')
  checkUuid(v, customerId, 'customer_id')
  checkDrink(v, input)
  v.throwIfAny()
  const id = deps.newId()
  const hash = requestHash(customerId.toLowerCase(), input)
  const { result } = await operate(deps, customerId.toLowerCase(), origin, async (edit, tx) => {
    const earlier = await tx.claimRequest(requestId, hash, id, deps.clock())
    if (earlier) {
      if (earlier.requestHash !== hash) throw invalid([{ field: 'request_id', description: 'was already used for a different request' }])
      const first = await tx.favorite(earlier.favoriteId)
      if (!first) throw notFound('favorite', earlier.favoriteId)
      return first
    }
    return edit.add(input, id)
  })
  return result
}

/** The customer a favorite belongs to (tombstones included), for authorization; NOT_FOUND when none. */
export async function favoriteOwner(deps: FavoritesDeps, favoriteId: string, field = 'favorite_id'): Promise<string> {
  uuidOf(favoriteId, field)
  const favorite = await deps.store.transaction((tx) => tx.favorite(favoriteId.toLowerCase()))
  if (!favorite) throw notFound('favorite', favoriteId)
  return favorite.customerId
}

/** Reads the update mask: the updatable fields it names, or INVALID_ARGUMENT. */
export function readMask(mask: readonly string[], allowed: readonly UpdatableField[], field = 'update_mask'): UpdatableField[] {
  const v = new Violations()
  if (mask.length === 0) v.add(field, 'must name at least one field')
  for (const path of mask) v.check((allowed as readonly string[]).includes(path), field, `cannot update "${path}"`)
  v.throwIfAny()
  return [...new Set(mask)] as UpdatableField[]
}

export async function updateFavorite(
  deps: FavoritesDeps,
  origin: ChangeOrigin,
  customerId: string,
  values: Favorite,
  mask: readonly string[],
  expectedRevision: number,
): Promise<Favorite> {
  uuidOf(values.id, 'favorite.favorite_id')
  const fields = readMask(mask, UPDATABLE_FIELDS)
  const input = normalizeDrink({ ...values, position: values.position, pinned: false })
  const v = new Violations()
  checkDrink(v, input, 'favorite.', new Set(fields))
  v.throwIfAny()
  const id = values.id.toLowerCase()
  const { result } = await operate(deps, customerId, origin, (edit) => {
    const current = edit.get(id)
    if (!current) throw notFound('favorite', id)
    if (expectedRevision > 0 && current.revision !== expectedRevision) {
      throw aborted(`favorite ${id} is at revision ${current.revision}, not ${expectedRevision}`, REASONS.revisionMismatch)
    }
    return edit.update(id, patchOf({ ...input, position: input.position ?? current.position }, fields))
  })
  return result
}

export async function removeFavorite(
  deps: FavoritesDeps,
  origin: ChangeOrigin,
  customerId: string,
  favoriteId: string,
  expectedRevision: number,
): Promise<{ favorite: Favorite; revision: number }> {
  uuidOf(favoriteId, 'favorite_id')
  const id = favoriteId.toLowerCase()
  const { result, revision } = await operate(deps, customerId, origin, (edit) => {
    const current = edit.get(id)
    if (!current) throw notFound('favorite', id)
    if (expectedRevision > 0 && current.revision !== expectedRevision) {
      throw aborted(`favorite ${id} is at revision ${current.revision}, not ${expectedRevision}`, REASONS.revisionMismatch)
    }
    return edit.remove(id, 'removed by customer')
  })
  return { favorite: result, revision }
}

export async function setUsual(
  deps: FavoritesDeps,
  origin: ChangeOrigin,
  customerId: string,
  favoriteId: string,
  expectedRevision: number,
): Promise<{ usual: Usual | undefined; revision: number }> {
  const v = new Violations()
  checkUuid(v, customerId, 'customer_id')
  if (favoriteId) checkUuid(v, favoriteId, 'favorite_id')
  v.throwIfAny()
  const id = favoriteId.toLowerCase()
  const { usual, revision } = await operate(deps, customerId.toLowerCase(), origin, (edit, _tx, state) => {
    if (expectedRevision > 0 && state.revision !== expectedRevision) {
      throw aborted(`favorites are at revision ${state.revision}, not ${expectedRevision}`, REASONS.revisionMismatch)
    }
    if (id && !edit.get(id)) throw notFound('favorite', id)
    edit.pin(id || undefined)
  })
  return { usual, revision }
}

export async function getUsual(deps: FavoritesDeps, customerId: string): Promise<Usual> {
  uuidOf(customerId, 'customer_id')
  const id = customerId.toLowerCase()
  const window = usualWindow(deps.clock(), deps.usualWindowDays)
  // One read; the usual needs no revision, so no snapshot transaction.
  const { live, learned } = await deps.store.usualInputs(id, window.startAt)
  const usual = usualOf(live, learned, window)
  if (!usual) throw notFound('usual of customer', id)
  return usual
}

export interface FavoritesPage {
  favorites: Favorite[]
  nextPageToken: string
  revision: number
}

/** Where a page ended: the last favorite's list order (position, creation, id). */
const tokens = pageTokens((raw) => {
  const position = positionOf.integer(raw['p'], MAX_POSITION + FAVORITES_LIMIT)
  const createdAt = positionOf.time(raw['t'])
  const id = positionOf.id(raw['i'])
  return position !== undefined && createdAt && id ? { p: position, t: createdAt.getTime(), i: id } : undefined
})

export async function listFavorites(
  deps: FavoritesDeps,
  customerId: string,
  rawPageSize: number,
  pageToken: string,
): Promise<FavoritesPage> {
  const id = uuidOf(customerId, 'customer_id')
  const size = pageSize(rawPageSize, 50, 100)
  const after = tokens.decode(pageToken, { customerId: id })
  const { favorites, revision } = await deps.store.live(id)
  const boundary = after && ({ position: after.p, createdAt: new Date(after.t), id: after.i } as Favorite)
  const rest = boundary ? favorites.filter((f) => byPosition(f, boundary) > 0) : favorites
  const page = rest.slice(0, size)
  const last = page.at(-1)
  const more = rest.length > page.length && last
  return {
    favorites: page,
    nextPageToken: more ? tokens.encode({ p: last.position, t: last.createdAt.getTime(), i: last.id }, { customerId: id }) : '',
    revision,
  }
}
