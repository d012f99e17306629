import { precondition } from '@brewmesh/runtime/errors'
import { Edit } from './edit.ts'
import type { ChangeOrigin, CommittedOperation, Usual } from './favorite.ts'
import type { CustomerFavorites, FavoritesDeps, FavoritesTx } from './ports.ts'
import { usualChange, usualOf, usualWindow } from './usual.ts'
import { REASONS } from './reasons.ts'

export interface OperationResult<T> {
  result: T
  /** The customer's favorites revision after the operation (unchanged when it changed nothing). */
  revision: number
  /** The usual after the operation. */
  usual: Usual | undefined
  /** What was committed; undefined when the operation changed nothing. */
  committed: CommittedOperation | undefined
}

/**
 * Commits an edit worked out on `state`: the changed favorites, the new revision and their events,
 * with UsualChanged when the usual moved. Nothing is written when the edit changed nothing.
 */
export async function commitEdit<T>(
  deps: FavoritesDeps,
  tx: FavoritesTx,
  state: CustomerFavorites,
  edit: Edit,
  origin: ChangeOrigin,
  result: T,
): Promise<OperationResult<T>> {
  const now = deps.clock()
  const window = usualWindow(now, deps.usualWindowDays)
  const learned = await tx.learned(state.customerId, window.startAt)
  const after = usualOf(edit.favorites(), learned, window)
  const changes = edit.changes
  if (changes.length === 0) return { result, revision: state.revision, usual: after, committed: undefined }
  const before = usualOf(state.live, learned, window)
  const removed = new Set(changes.filter((c) => c.kind === 'removed').map((c) => c.favorite.id))
  const committed: CommittedOperation = {
    customerId: state.customerId,
    revision: edit.revision,
    origin,
    changes,
    usualChange: usualChange(before, after, removed),
    at: now,
  }
  await tx.commit(committed)
  return { result, revision: edit.revision, usual: after, committed }
}

/**
 * Runs one operation on a customer's favorites under the customer's lock, in one transaction:
 * `work` edits in memory (and may read through the transaction), then everything it changed is
 * committed under a single new revision. A deleted customer's favorites cannot change.
 */
export function operate<T>(
  deps: FavoritesDeps,
  customerId: string,
  origin: ChangeOrigin,
  work: (edit: Edit, tx: FavoritesTx, state: CustomerFavorites) => Promise<T> | T,
): Promise<OperationResult<T>> {
  return deps.store.transaction(async (tx) => {
    const state = await tx.lock(customerId)
    if (state.deletedAt) throw precondition(`customer ${customerId} was deleted; their favorites cannot change`, REASONS.customerDeleted)
    const edit = new Edit(state, origin, deps.clock(), deps.newId)
    const result = await work(edit, tx, state)
    return commitEdit(deps, tx, state, edit, origin, result)
  })
}
