import type { FavoriteChange as FavoriteChangeMessage } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import type {
  ClientChange as ClientChangeMessage,
  SyncFavoritesRequest,
  SyncFavoritesResponse,
} from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { invalid, Violations, type FieldViolation } from '@brewmesh/runtime/errors'
import { AsyncQueue, type FanOut } from '@brewmesh/runtime/streams'
import type { ChangeOrigin } from '../domain/favorite.ts'
import type { ClientChangeAck, FavoritesDeps } from '../domain/ports.ts'
import { asChange, catchUp, ChangeCursor } from '../domain/replay.ts'
import { applyClientChange, clientChangeIdViolations, type ClientChange, type SyncDevice } from '../domain/sync.ts'
import { checkText } from '../domain/validation.ts'
import { checkUuid } from '@brewmesh/runtime/ids'
import { ackToProto, changeToProto, drinkFromProto, favoriteValuesFromProto, snapshotToProto } from '../proto/favorites-mapper.ts'

/** Client changes and feed changes a stream may have pending before it is ended. */
const MAX_PENDING = 1000

type Item = { kind: 'client'; change: ClientChange } | { kind: 'feed'; change: FavoriteChangeMessage } | { kind: 'end' }

export function clientChangeFromProto(m: ClientChangeMessage): ClientChange {
  const op = m.operation
  return {
    clientChangeId: m.clientChangeId,
    baseRevision: Number(m.baseRevision),
    operation:
      op?.$case === 'add'
        ? { kind: 'add', drink: drinkFromProto(op.value) }
        : op?.$case === 'update'
          ? { kind: 'update', values: favoriteValuesFromProto(op.value.favorite), mask: op.value.updateMask ?? [] }
          : op?.$case === 'remove'
            ? { kind: 'remove', favoriteId: op.value.favoriteId }
            : undefined,
  }
}

const rejectedAck = (clientChangeId: string, revision: number, fieldViolations: FieldViolation[]): ClientChangeAck => ({
  clientChangeId,
  result: 'rejected',
  favorite: undefined,
  removed: false,
  revision,
  overwritten: undefined,
  conflictingFields: [],
  message: 'invalid change',
  fieldViolations,
})

/** The hello, exactly once and first; INVALID_ARGUMENT ends the stream otherwise. */
async function readHello(requests: AsyncIterator<SyncFavoritesRequest>): Promise<SyncDevice & { lastRevision: number }> {
  const first = await requests.next()
  const m = first.done ? undefined : first.value.message
  if (m?.$case !== 'hello') throw invalid([{ field: 'hello', description: 'must be the first message' }])
  const v = new Violations()
  checkUuid(v, m.value.customerId, 'hello.customer_id')
  checkText(v, m.value.deviceId, 'hello.device_id', { max: 128 })
  v.check(Number(m.value.lastRevision) >= 0, 'hello.last_revision', 'must be 0 or more')
  v.throwIfAny()
  return { customerId: m.value.customerId.toLowerCase(), deviceId: m.value.deviceId, lastRevision: Number(m.value.lastRevision) }
}

/**
 * Bidirectional: catches the device up (changes since its revision, or a snapshot), says ready,
 * then applies its changes in the order sent (one ack each) while pushing changes made elsewhere.
 * Feed changes and client changes go through one queue, so the device sees one consistent order;
 * before an ack, changes made elsewhere at lower revisions are read from the database and sent, so
 * a device that stores the ack's revision has never skipped one. When the device half-closes, the
 * server acks what it sent and ends the stream.
 */
export async function* syncFavorites(
  deps: FavoritesDeps,
  changes: FanOut<FavoriteChangeMessage>,
  requests: AsyncIterable<SyncFavoritesRequest>,
  call: { authorize(target: { customerId: string }): void; signal: AbortSignal },
  originOf: (deviceId: string) => ChangeOrigin,
): AsyncIterable<SyncFavoritesResponse> {
  const iterator = requests[Symbol.asyncIterator]()
  const device = await readHello(iterator)
  call.authorize({ customerId: device.customerId })
  const origin = originOf(device.deviceId)
  const items = new AsyncQueue<Item>(MAX_PENDING, call.signal)
  const unsubscribe = changes.subscribe(device.customerId, (change) => void items.push({ kind: 'feed', change }))
  // Not awaited at the end: a stream that fails while the device is idle must not wait for its next message.
  void (async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const m = next.value.message
      if (m?.$case !== 'change') throw invalid([{ field: 'change', description: 'after hello, send only changes' }])
      items.push({ kind: 'client', change: clientChangeFromProto(m.value) })
    }
    items.push({ kind: 'end' })
  })().catch((err: unknown) => items.close(err instanceof Error ? err : new Error(String(err))))

  const change = (value: FavoriteChangeMessage): SyncFavoritesResponse => ({ message: { $case: 'change', value } })
  try {
    await changes.live() // a feed that slept for want of streams fetches again first
    const start = await catchUp(deps, device.customerId, device.lastRevision)
    const revision = start.kind === 'snapshot' ? start.snapshot.revision : start.revision
    const cursor = new ChangeCursor(revision)
    if (start.kind === 'snapshot') yield { message: { $case: 'snapshot', value: snapshotToProto(start.snapshot) } }
    else for (const c of start.changes) yield change(changeToProto(c, c.favorite.updatedAt, c.favorite.updatedFromDeviceId))
    yield { message: { $case: 'ready', value: { revision: String(revision), snapshotSent: start.kind === 'snapshot' } } }

    for await (const item of items) {
      if (item.kind === 'end') return
      if (item.kind === 'feed') {
        if (cursor.accept(Number(item.change.revision), item.change.favorite?.favoriteId ?? '')) yield change(item.change)
        continue
      }
      const violations = clientChangeIdViolations(item.change)
      if (violations.length > 0) {
        yield { message: { $case: 'ack', value: ackToProto(rejectedAck(item.change.clientChangeId, cursor.revision, violations)) } }
        continue
      }
      const applied = await applyClientChange(deps, origin, device, item.change)
      if (applied.committed) {
        // Changes made elsewhere before this one, not yet here through the feed.
        const since = cursor.revision
        const gap = await deps.store.changesSince(device.customerId, Math.max(0, since - 1))
        for (const f of gap.favorites) {
          if (f.revision >= applied.ack.revision || !cursor.accept(f.revision, f.id)) continue
          yield change(changeToProto(asChange(f, since), f.updatedAt, f.updatedFromDeviceId))
        }
      }
      yield { message: { $case: 'ack', value: ackToProto(applied.ack) } }
      for (const c of applied.sideEffects) yield change(changeToProto(c, c.favorite.updatedAt, device.deviceId, item.change.clientChangeId))
      if (applied.committed) cursor.closeAt(applied.ack.revision)
    }
  } finally {
    unsubscribe()
    items.close()
  }
}
