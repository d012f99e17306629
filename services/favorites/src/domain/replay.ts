import { MAX_REVISION, type Favorite, type FavoriteChange, type Usual } from './favorite.ts'
import type { FavoritesDeps } from './ports.ts'
import { usualOf, usualWindow } from './usual.ts'

export interface Snapshot {
  customerId: string
  favorites: Favorite[]
  revision: number
  usual: Usual | undefined
}

export type CatchUp = { kind: 'snapshot'; snapshot: Snapshot } | { kind: 'changes'; changes: FavoriteChange[]; revision: number }

export async function snapshot(deps: FavoritesDeps, customerId: string): Promise<Snapshot> {
  const window = usualWindow(deps.clock(), deps.usualWindowDays)
  const [{ favorites, revision }, learned] = await Promise.all([
    deps.store.live(customerId),
    deps.store.learned(customerId, window.startAt),
  ])
  return { customerId, favorites, revision, usual: usualOf(favorites, learned, window) }
}

/** A favorite's latest state as a change after `since`: added, updated or removed (a tombstone). */
export function asChange(f: Favorite, since: number): FavoriteChange {
  const kind = f.removedAt ? 'removed' : f.createdRevision > since ? 'added' : 'updated'
  return { kind, revision: f.revision, favorite: f, previous: undefined, changedFields: [], reason: '' }
}

/**
 * What a device or watcher that has seen `since` needs: the favorites changed after it (their
 * latest state, in revision order), or a snapshot when those changes cannot be told (0, pruned
 * tombstones, or a revision ahead of the server's).
 */
export async function catchUp(deps: FavoritesDeps, customerId: string, since: number): Promise<CatchUp> {
  // A revision past any the store can hold is ahead of the server: a snapshot, like any other.
  if (since > 0 && since <= MAX_REVISION) {
    const c = await deps.store.changesSince(customerId, since)
    if (since <= c.revision && since >= c.prunedThrough)
      return { kind: 'changes', changes: c.favorites.map((f) => asChange(f, since)), revision: c.revision }
  }
  return { kind: 'snapshot', snapshot: await snapshot(deps, customerId) }
}

/**
 * Where a stream is in a customer's revisions, so each change reaches it once: a change is new when
 * its revision is past the cursor, or is the open revision and its favorite was not sent yet. A
 * revision is closed once everything in it was delivered (snapshot, catch-up, own ack).
 */
export class ChangeCursor {
  private revisionAt: number
  private sent = new Set<string>()
  private closed = true

  constructor(revision: number) {
    this.revisionAt = revision
  }

  get revision(): number {
    return this.revisionAt
  }

  accept(revision: number, favoriteId: string): boolean {
    if (revision < this.revisionAt) return false
    if (revision === this.revisionAt) {
      if (this.closed || this.sent.has(favoriteId)) return false
      this.sent.add(favoriteId)
      return true
    }
    this.revisionAt = revision
    this.sent = new Set([favoriteId])
    this.closed = false
    return true
  }

  /** Everything up to and including `revision` was delivered. */
  closeAt(revision: number): void {
    if (revision < this.revisionAt) return
    this.revisionAt = revision
    this.sent = new Set()
    this.closed = true
  }
}
