import type { FavoriteChange as FavoriteChangeMessage } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import type {
  ClientChange as ClientChangeMessage,
  SyncFavoritesRequest,
  SyncFavoritesResponse,
} from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { AsyncQueue } from '@brewmesh/runtime/async-queue.ts'
import { invalid, Violations, type FieldViolation } from '@brewmesh/runtime/errors.ts'
import type { CallContext, Send } from '@brewmesh/runtime/grpc/calls.ts'
import type { ChangeOrigin } from '../domain/favorite.ts'
import type { ClientChangeAck, FavoritesDeps } from '../domain/ports.ts'
import { asChange, catchUp, ChangeCursor } from '../domain/replay.ts'
import { applyClientChange, clientChangeIdViolations, type ClientChange, type SyncDevice } from '../domain/sync.ts'
import { checkText, checkUuid } from '../domain/validation.ts'
import type { FavoritesBus } from '../events/favorites-bus.ts'
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
export function syncFavorites(
  deps: FavoritesDeps,
  bus: FavoritesBus,
  authorize: (customerId: string) => void,
  originOf: (deviceId: string) => ChangeOrigin,
) {
  return async (requests: AsyncIterable<SyncFavoritesRequest>, send: Send<SyncFavoritesResponse>, ctx: CallContext): Promise<void> => {
    const iterator = requests[Symbol.asyncIterator]()
    const device = await readHello(iterator)
    authorize(device.customerId)
    const origin = originOf(device.deviceId)
    const items = new AsyncQueue<Item>(MAX_PENDING, ctx.signal)
    const unsubscribe = bus.subscribe(device.customerId, (change) => void items.push({ kind: 'feed', change }))
    // Not awaited at the end: a stream that fails while the device is idle must not wait for its next message.
    void (async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        const m = next.value.message
        if (m?.$case !== 'change') throw invalid([{ field: 'change', description: 'after hello, send only changes' }])
        items.push({ kind: 'client', change: clientChangeFromProto(m.value) })
      }
      items.push({ kind: 'end' })
    })().catch((err: unknown) => items.close(err instanceof Error ? err : new Error(String(err))))

    const sendChange = (value: FavoriteChangeMessage) => send({ message: { $case: 'change', value } })
    try {
      const start = await catchUp(deps, device.customerId, device.lastRevision)
      const revision = start.kind === 'snapshot' ? start.snapshot.revision : start.revision
      const cursor = new ChangeCursor(revision)
      if (start.kind === 'snapshot') {
        if (!(await send({ message: { $case: 'snapshot', value: snapshotToProto(start.snapshot) } }))) return
      } else {
        for (const c of start.changes)
          if (!(await sendChange(changeToProto(c, c.favorite.updatedAt, c.favorite.updatedFromDeviceId)))) return
      }
      if (!(await send({ message: { $case: 'ready', value: { revision: String(revision), snapshotSent: start.kind === 'snapshot' } } })))
        return

      for await (const item of items) {
        if (item.kind === 'end') return
        if (item.kind === 'feed') {
          if (cursor.accept(Number(item.change.revision), item.change.favorite?.favoriteId ?? '') && !(await sendChange(item.change)))
            return
          continue
        }
        const violations = clientChangeIdViolations(item.change)
        if (violations.length > 0) {
          const ack = rejectedAck(item.change.clientChangeId, cursor.revision, violations)
          if (!(await send({ message: { $case: 'ack', value: ackToProto(ack) } }))) return
          continue
        }
        const applied = await applyClientChange(deps, origin, device, item.change)
        if (applied.committed) {
          // Changes made elsewhere before this one, not yet here through the feed.
          const since = cursor.revision
          const gap = await deps.store.changesSince(device.customerId, Math.max(0, since - 1))
          for (const f of gap.favorites) {
            if (f.revision >= applied.ack.revision || !cursor.accept(f.revision, f.id)) continue
            if (!(await sendChange(changeToProto(asChange(f, since), f.updatedAt, f.updatedFromDeviceId)))) return
          }
        }
        if (!(await send({ message: { $case: 'ack', value: ackToProto(applied.ack) } }))) return
        for (const c of applied.sideEffects) {
          if (!(await sendChange(changeToProto(c, c.favorite.updatedAt, device.deviceId, item.change.clientChangeId)))) return
        }
        if (applied.committed) cursor.closeAt(applied.ack.revision)
      }
    } finally {
      unsubscribe()
      items.close()
    }
  }
}
