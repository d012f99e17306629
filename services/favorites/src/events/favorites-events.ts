import { FavoritesEvent, UsualChanged_Cause } from '@brewmesh/gen/brewmesh/favorites/v1/events.ts'
import { FavoriteChange_Kind, type FavoriteChange as FavoriteChangeMessage } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import type { Actor as ActorMessage } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import type { OutboxMessage } from '@brewmesh/runtime/db'
import { eventEnvelope } from '@brewmesh/runtime/kafka'
import type { CommittedOperation, FavoriteChange, UsualCause } from '../domain/favorite.ts'
import { favoriteToProto, usualToProto } from '../proto/favorites-mapper.ts'

const CAUSE: Record<UsualCause, UsualChanged_Cause> = {
  pinned: UsualChanged_Cause.CAUSE_PINNED,
  unpinned: UsualChanged_Cause.CAUSE_UNPINNED,
  pinned_removed: UsualChanged_Cause.CAUSE_PINNED_REMOVED,
  pinned_updated: UsualChanged_Cause.CAUSE_PINNED_UPDATED,
  learned: UsualChanged_Cause.CAUSE_LEARNED,
}

function payloadOf(c: FavoriteChange): { type: string; payload: FavoritesEvent['payload'] } {
  const favorite = favoriteToProto(c.favorite)
  switch (c.kind) {
    case 'added':
      return { type: 'brewmesh.favorites.v1.FavoriteAdded', payload: { $case: 'favoriteAdded', value: { favorite } } }
    case 'updated': {
      const previous = c.previous && favoriteToProto(c.previous)
      const value = { favorite, previous, changedFields: [...c.changedFields] }
      return { type: 'brewmesh.favorites.v1.FavoriteUpdated', payload: { $case: 'favoriteUpdated', value } }
    }
    case 'removed':
      return { type: 'brewmesh.favorites.v1.FavoriteRemoved', payload: { $case: 'favoriteRemoved', value: { favorite, reason: c.reason } } }
  }
}

/**
 * One operation as the events the outbox relay publishes, keyed by customer id: one per favorite
 * touched, then UsualChanged when the usual moved.
 */
export function toOutboxMessages(topic: string, op: CommittedOperation): OutboxMessage[] {
  const parts = op.changes.map(payloadOf)
  if (op.usualChange) {
    const u = op.usualChange
    parts.push({
      type: 'brewmesh.favorites.v1.UsualChanged',
      payload: {
        $case: 'usualChanged',
        value: { cause: CAUSE[u.cause], previous: usualToProto(u.previous), usual: usualToProto(u.usual) },
      },
    })
  }
  return parts.map(({ type, payload }) => {
    const { metadata, headers } = eventEnvelope('favorites', type, op.at)
    const event: FavoritesEvent = {
      metadata,
      customerId: op.customerId,
      revision: String(op.revision),
      actor: { kind: op.origin.actor.kind, id: op.origin.actor.id, displayName: '' } as ActorMessage,
      deviceId: op.origin.deviceId,
      clientChangeId: op.origin.clientChangeId,
      payload,
    }
    return { topic, key: op.customerId, payload: FavoritesEvent.encode(event).finish(), headers: { ...headers } }
  })
}

/** A favorites event as the change a watcher or another device sees; undefined for UsualChanged. */
export function changeFromEvent(event: FavoritesEvent): FavoriteChangeMessage | undefined {
  const p = event.payload
  const base = {
    revision: event.revision,
    changedAt: event.metadata?.occurredAt,
    deviceId: event.deviceId,
    clientChangeId: event.clientChangeId,
  }
  switch (p?.$case) {
    case 'favoriteAdded':
      return { ...base, kind: FavoriteChange_Kind.KIND_ADDED, favorite: p.value.favorite, changedFields: [] }
    case 'favoriteUpdated':
      return { ...base, kind: FavoriteChange_Kind.KIND_UPDATED, favorite: p.value.favorite, changedFields: p.value.changedFields }
    case 'favoriteRemoved':
      return { ...base, kind: FavoriteChange_Kind.KIND_REMOVED, favorite: p.value.favorite, changedFields: [] }
    default:
      return undefined
  }
}
