import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FavoriteChange_Kind, type Favorite } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import type {
  ImportFavoritesRequest,
  ImportFavoritesResponse,
  WatchFavoritesResponse,
} from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { failure, pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { addFavorite, cleanup, favoritesEnv, MENU, startFavorites, type Running } from './support.ts'

let one: Running
let two: Running
const env = favoritesEnv()
beforeAll(async () => {
  one = await startFavorites(env)
  // A second replica of the same service: same schema and topics, its own instance id.
  two = await startFavorites({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-2` }, { migrate: false })
})
afterAll(async () => {
  await two?.stop()
  await one?.stop()
  await cleanup(env)
})

const watch = (svc: Running, customerId: string, sinceRevision = '0') => {
  const stop = new AbortController()
  const reader = new StreamReader<WatchFavoritesResponse>(svc.client.watchFavorites({ customerId, sinceRevision }, { signal: stop.signal }))
  return { call: { cancel: () => stop.abort() }, reader }
}

describe('WatchFavorites', () => {
  it('sends a snapshot, then every change made through another replica, each once, with its revision', async () => {
    const customerId = randomUUID()
    const first = await addFavorite(one.client, customerId)
    const { call, reader } = watch(two, customerId)
    const snapshot = await reader.next()
    expect(snapshot.event).toMatchObject({ $case: 'snapshot', value: { revision: '1', favorites: [{ favoriteId: first.favoriteId }] } })

    const second = await addFavorite(one.client, customerId, { menuItemId: MENU.mocha })
    await one.client.setUsual({ customerId, favoriteId: second.favoriteId, expectedRevision: '0' })
    const added = await reader.next()
    expect(added.event).toMatchObject({
      $case: 'change',
      value: { kind: FavoriteChange_Kind.KIND_ADDED, revision: '2', favorite: { favoriteId: second.favoriteId } },
    })
    const pinned = await reader.next()
    expect(pinned.event).toMatchObject({
      $case: 'change',
      value: { kind: FavoriteChange_Kind.KIND_UPDATED, revision: '3', changedFields: ['pinned'] },
    })
    await one.client.removeFavorite({ favoriteId: first.favoriteId, expectedRevision: '0' })
    const removed = await reader.next()
    expect(removed.event).toMatchObject({
      $case: 'change',
      value: { kind: FavoriteChange_Kind.KIND_REMOVED, revision: '4', favorite: { favoriteId: first.favoriteId } },
    })
    call.cancel()
  })

  it('replays the changes after since_revision instead of a snapshot, and snapshots a revision ahead of the server', async () => {
    const customerId = randomUUID()
    const a = await addFavorite(one.client, customerId)
    const b = await addFavorite(one.client, customerId, { menuItemId: MENU.mocha })
    await one.client.removeFavorite({ favoriteId: a.favoriteId, expectedRevision: '0' })
    const { call, reader } = watch(one, customerId, '1')
    const replayed = [await reader.next(), await reader.next()]
    expect(replayed.map((m) => m.event?.$case)).toEqual(['change', 'change'])
    expect(replayed.map((m) => (m.event?.$case === 'change' ? [m.event.value.kind, m.event.value.favorite?.favoriteId] : []))).toEqual([
      [FavoriteChange_Kind.KIND_ADDED, b.favoriteId],
      [FavoriteChange_Kind.KIND_REMOVED, a.favoriteId],
    ])
    call.cancel()
    const ahead = watch(one, customerId, '99')
    expect((await ahead.reader.next()).event).toMatchObject({ $case: 'snapshot', value: { revision: '3' } })
    ahead.call.cancel()
    // Past any revision the store can hold (it used to fail the stream INTERNAL): a snapshot too.
    const farAhead = watch(one, customerId, '4294967296')
    expect((await farAhead.reader.next()).event).toMatchObject({ $case: 'snapshot', value: { revision: '3' } })
    farAhead.call.cancel()
  })

  it('refuses a customer token watching someone else, and a malformed id', async () => {
    const me = randomUUID()
    const mine = await one.customer(me)
    const other = new StreamReader(mine.watchFavorites({ customerId: randomUUID(), sinceRevision: '0' }))
    expect((await other.end())?.code).toBe(status.PERMISSION_DENIED)
    const bad = watch(one, 'nope')
    expect((await bad.reader.end())?.code).toBe(status.INVALID_ARGUMENT)
  })
})

function importStream(svc: Running) {
  const requests = pushable<ImportFavoritesRequest>()
  const result: Promise<{ err: unknown; response?: ImportFavoritesResponse }> = svc.client.importFavorites(requests).then(
    (response) => ({ err: null, response }),
    (err: unknown) => ({ err }),
  )
  return { call: { write: (m: ImportFavoritesRequest) => requests.push(m), end: () => requests.end() }, result }
}

const row = (rowNumber: number, menuItemId: string, extra: Partial<Favorite> = {}): ImportFavoritesRequest => ({
  message: {
    $case: 'row',
    value: {
      rowNumber: String(rowNumber),
      menuItemId,
      displayName: 'Drink',
      customization: undefined,
      nickname: '',
      position: undefined,
      pinned: false,
      ...extra,
    },
  },
})

describe('ImportFavorites', () => {
  it('imports good rows in one revision, reports bad ones and duplicates, and a retried upload imports nothing twice', async () => {
    const customerId = randomUUID()
    await addFavorite(one.client, customerId, { menuItemId: MENU.chai, customization: undefined })
    const upload = async () => {
      const { call, result } = importStream(one)
      call.write({ message: { $case: 'header', value: { customerId, deviceId: 'phone-1' } } })
      call.write(row(1, MENU.latte))
      call.write(row(2, MENU.chai)) // already a favorite
      call.write(row(3, 'not-a-uuid'))
      call.write(row(4, MENU.latte)) // same as row 1
      call.write(row(5, MENU.mocha, { pinned: true }))
      call.end()
      const { err, response } = await result
      expect(err).toBeNull()
      return response!
    }
    const first = await upload()
    expect(first).toMatchObject({ received: '5', imported: '2', duplicates: '2', failed: '1', revision: '2' })
    expect(first.failures).toEqual([
      { rowNumber: '3', reason: expect.stringContaining('menu_item_id') as string, fields: ['menu_item_id'] },
    ])
    expect(first.favorites.map((f) => [f.menuItemId, f.pinned, f.updatedFromDeviceId, f.revision])).toEqual([
      [MENU.latte, false, 'phone-1', '2'],
      [MENU.mocha, true, 'phone-1', '2'],
    ])
    const retried = await upload()
    expect(retried).toMatchObject({ imported: '0', duplicates: '4', failed: '1', revision: '2' })
  })

  it('ends the stream with INVALID_ARGUMENT when the header is missing', async () => {
    const { call, result } = importStream(one)
    call.write(row(1, MENU.latte))
    call.end()
    const { err } = await result
    expect((err as { code: number }).code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(err as never).map((v) => v.field)).toEqual(['header'])
  })

  it('refuses a customer importing into another customer before reading rows', async () => {
    const mine = await one.customer(randomUUID())
    const err = await failure(
      mine.importFavorites([{ message: { $case: 'header', value: { customerId: randomUUID(), deviceId: 'phone' } } }]),
    )
    expect(err.code).toBe(status.PERMISSION_DENIED)
  })
})
