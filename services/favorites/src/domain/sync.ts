import { AppError, Violations, type FieldViolation } from '@brewmesh/runtime/errors'
import { changedFields, Edit, patchOf } from './edit.ts'
import {
  UPDATABLE_FIELDS,
  type ChangeOrigin,
  type DrinkInput,
  type Favorite,
  type FavoriteChange,
  type UpdatableField,
} from './favorite.ts'
import { commitEdit } from './operation.ts'
import type { ClientChangeAck, FavoritesDeps, FavoritesTx } from './ports.ts'
import { checkDrink, checkKey, normalizeDrink } from './validation.ts'
import { checkUuid } from '@brewmesh/runtime/ids'

export type ClientOperation =
  | { kind: 'add'; drink: DrinkInput }
  | { kind: 'update'; values: Favorite; mask: readonly string[] }
  | { kind: 'remove'; favoriteId: string }
  | undefined

export interface ClientChange {
  clientChangeId: string
  baseRevision: number
  operation: ClientOperation
}

export interface SyncDevice {
  customerId: string
  deviceId: string
}

export interface AppliedClientChange {
  ack: ClientChangeAck
  /** Other favorites the change touched (pinning one unpins another), sent after the ack. */
  sideEffects: FavoriteChange[]
  /** True when this call committed a new revision (not a resent change, not a change that was not applied). */
  committed: boolean
}

const SYNC_FIELDS: readonly UpdatableField[] = [...UPDATABLE_FIELDS, 'pinned']

type Outcome = Omit<ClientChangeAck, 'clientChangeId' | 'revision'>

const blank = { favorite: undefined, removed: false, overwritten: undefined, conflictingFields: [], message: '', fieldViolations: [] }
const rejected = (message: string, fieldViolations: FieldViolation[] = [], favorite?: Favorite): Outcome => ({
  ...blank,
  result: 'rejected',
  message,
  fieldViolations,
  favorite,
})

/** A client change id that cannot be stored is answered, never applied or remembered. */
export function clientChangeIdViolations(change: ClientChange): FieldViolation[] {
  const v = new Violations()
  checkKey(v, change.clientChangeId, 'client_change_id')
  return v.list
}

function decideAdd(edit: Edit, drink: DrinkInput): Outcome {
  const input = normalizeDrink(drink)
  const v = new Violations()
  checkDrink(v, input, 'add.')
  if (v.list.length > 0) return rejected('invalid change', v.list)
  const existing = edit.withDrink(input.menuItemId, input.customization)
  if (existing) return { ...blank, result: 'duplicate', favorite: existing }
  try {
    const added = edit.add(input)
    return { ...blank, result: 'applied', favorite: edit.get(added.id) }
  } catch (err) {
    if (err instanceof AppError) return rejected(err.message)
    throw err
  }
}

/** A favorite the device names that is not live: removed elsewhere (the removal wins) or unknown. */
async function notLive(tx: FavoritesTx, customerId: string, id: string): Promise<Outcome> {
  const stored = await tx.favorite(id)
  if (stored?.customerId === customerId && stored.removedAt) return { ...blank, result: 'conflict_lost', favorite: stored, removed: true }
  return rejected(`unknown favorite ${id}`)
}

async function decideUpdate(
  edit: Edit,
  tx: FavoritesTx,
  change: ClientChange,
  values: Favorite,
  mask: readonly string[],
): Promise<Outcome> {
  const v = new Violations()
  checkUuid(v, values.id, 'update.favorite.favorite_id')
  if (mask.length === 0) v.add('update.update_mask', 'must name at least one field')
  for (const path of mask) v.check((SYNC_FIELDS as readonly string[]).includes(path), 'update.update_mask', `cannot update "${path}"`)
  const fields = [...new Set(mask)] as UpdatableField[]
  const input = normalizeDrink({ ...values, pinned: values.pinned })
  checkDrink(v, input, 'update.favorite.', new Set(fields))
  if (v.list.length > 0) return rejected('invalid change', v.list)
  const id = values.id.toLowerCase()
  const before = edit.get(id)
  if (!before) return notLive(tx, edit.customerId, id)
  try {
    edit.update(id, patchOf({ ...input, pinned: values.pinned }, fields))
  } catch (err) {
    if (err instanceof AppError) return rejected(err.message, [], before)
    throw err
  }
  const after = edit.get(id)
  if (before.revision <= change.baseRevision) return { ...blank, result: 'applied', favorite: after }
  const changed = after ? changedFields(before, after) : []
  return {
    ...blank,
    result: 'conflict_overwritten',
    favorite: after,
    overwritten: before,
    conflictingFields: fields.filter((f) => changed.includes(f)),
  }
}

async function decideRemove(edit: Edit, tx: FavoritesTx, change: ClientChange, favoriteId: string): Promise<Outcome> {
  const v = new Violations()
  checkUuid(v, favoriteId, 'remove.favorite_id')
  if (v.list.length > 0) return rejected('invalid change', v.list)
  const id = favoriteId.toLowerCase()
  const before = edit.get(id)
  if (!before) return notLive(tx, edit.customerId, id)
  const tombstone = edit.remove(id, 'removed on device')
  const result = before.revision <= change.baseRevision ? 'applied' : 'conflict_overwritten'
  return { ...blank, result, favorite: tombstone, removed: true, overwritten: result === 'applied' ? undefined : before }
}

function decide(edit: Edit, tx: FavoritesTx, change: ClientChange): Promise<Outcome> | Outcome {
  const op = change.operation
  switch (op?.kind) {
    case 'add':
      return decideAdd(edit, op.drink)
    case 'update':
      return decideUpdate(edit, tx, change, op.values, op.mask)
    case 'remove':
      return decideRemove(edit, tx, change, op.favoriteId)
    default:
      return rejected('invalid change', [{ field: 'operation', description: 'is required: add, update or remove' }])
  }
}

/**
 * Applies one client change of a SyncFavorites device, last-writer-wins by server revision, and
 * remembers its ack in the same transaction: a change id the device already sent (on this stream
 * or an earlier one) gets the same ack again and is not applied twice.
 */
export function applyClientChange(
  deps: FavoritesDeps,
  origin: ChangeOrigin,
  device: SyncDevice,
  change: ClientChange,
): Promise<AppliedClientChange> {
  return deps.store.transaction(async (tx) => {
    const state = await tx.lock(device.customerId)
    const earlier = await tx.clientChange(device.customerId, device.deviceId, change.clientChangeId)
    if (earlier) return { ack: earlier, sideEffects: [], committed: false }
    const edit = new Edit(state, { ...origin, clientChangeId: change.clientChangeId }, deps.clock(), deps.newId)
    const outcome = state.deletedAt ? rejected('the customer was deleted') : await decide(edit, tx, change)
    const { revision, committed } = await commitEdit(deps, tx, state, edit, { ...origin, clientChangeId: change.clientChangeId }, undefined)
    const ack: ClientChangeAck = { ...outcome, clientChangeId: change.clientChangeId, revision }
    await tx.saveClientChange(device.customerId, device.deviceId, ack, deps.clock())
    const own = ack.favorite?.id
    return { ack, sideEffects: committed?.changes.filter((c) => c.favorite.id !== own) ?? [], committed: committed !== undefined }
  })
}
