import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Favorite } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import {
  ClientChangeAck_Result as Result,
  type ClientChange,
  type ClientChangeAck,
  type SyncFavoritesRequest,
  type SyncFavoritesResponse,
} from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { addFavorite, cleanup, favoritesEnv, MENU, startFavorites, type FavoritesClient, type Running } from './support.ts'

let one: Running
let two: Running
const env = favoritesEnv()
beforeAll(async () => {
  one = await startFavorites(env)
  two = await startFavorites({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-2` }, { migrate: false })
})
afterAll(async () => {
  await two?.stop()
  await one?.stop()
  await cleanup(env)
})

/** A device's local copy, kept the way the contract tells devices to keep it. */
class Device {
  readonly favorites = new Map<string, Favorite>()
  readonly acks = new Map<string, ClientChangeAck>()
  revision = 0
  ready = false
  readonly requests = pushable<SyncFavoritesRequest>()
  /** Every message the server sent, applied as it came. */
  readonly messages: StreamReader<SyncFavoritesResponse>
  private sent = 0

  constructor(client: FavoritesClient, customerId: string, deviceId: string, lastRevision = 0) {
    this.revision = lastRevision
    this.messages = new StreamReader<SyncFavoritesResponse>(this.applied(client.syncFavorites(this.requests)))
    this.requests.push({ message: { $case: 'hello', value: { customerId, deviceId, lastRevision: String(lastRevision) } } })
  }

  /** The server's messages, each applied to the copy as it arrives. */
  private async *applied(messages: AsyncIterable<SyncFavoritesResponse>) {
    for await (const m of messages) {
      this.apply(m)
      yield m
    }
  }

  private seen(revision: string) {
    this.revision = Math.max(this.revision, Number(revision))
  }

  private apply(m: SyncFavoritesResponse) {
    const msg = m.message
    if (msg?.$case === 'snapshot') {
      this.favorites.clear()
      for (const f of msg.value.favorites) this.favorites.set(f.favoriteId, f)
      this.seen(msg.value.revision)
    } else if (msg?.$case === 'change') {
      const f = msg.value.favorite!
      if (msg.value.kind === 3) this.favorites.delete(f.favoriteId)
      else this.favorites.set(f.favoriteId, f)
      this.seen(msg.value.revision)
    } else if (msg?.$case === 'ack') {
      const f = msg.value.favorite
      if (f && msg.value.removed) this.favorites.delete(f.favoriteId)
      else if (f && msg.value.result !== Result.RESULT_REJECTED) this.favorites.set(f.favoriteId, f)
      this.acks.set(msg.value.clientChangeId, msg.value)
      this.seen(msg.value.revision)
    } else if (msg?.$case === 'ready') {
      this.ready = true
      this.seen(msg.value.revision)
    }
  }

  send(change: Omit<ClientChange, 'clientChangeId' | 'baseRevision'> & { clientChangeId?: string; baseRevision?: string }): string {
    const id = change.clientChangeId ?? randomUUID()
    this.sent += 1
    this.requests.push({ message: { $case: 'change', value: { baseRevision: String(this.revision), ...change, clientChangeId: id } } })
    return id
  }

  ack(id: string): Promise<ClientChangeAck> {
    return eventually(() => {
      const a = this.acks.get(id)
      if (!a) throw new Error(`no ack for ${id} yet`)
      return a
    })
  }

  /** The copy as comparable data: id → the fields a device shows. */
  view() {
    return Object.fromEntries([...this.favorites.values()].map((f) => [f.favoriteId, [f.menuItemId, f.nickname, f.pinned, f.position]]))
  }
}

const add = (menuItemId: string, extra: { nickname?: string; pinned?: boolean } = {}) => ({
  operation: {
    $case: 'add' as const,
    value: {
      menuItemId,
      displayName: 'Drink',
      customization: undefined,
      nickname: extra.nickname ?? '',
      position: undefined,
      pinned: extra.pinned ?? false,
    },
  },
})
const update = (favorite: Favorite, mask: string[]) => ({ operation: { $case: 'update' as const, value: { favorite, updateMask: mask } } })
const remove = (favoriteId: string) => ({ operation: { $case: 'remove' as const, value: { favoriteId } } })

async function serverView(customerId: string) {
  const page = await one.client.listFavorites({ customerId, pageSize: 100, pageToken: '' })
  return Object.fromEntries(page.favorites.map((f) => [f.favoriteId, [f.menuItemId, f.nickname, f.pinned, f.position]]))
}

describe('SyncFavorites', () => {
  it('two devices syncing the same customer at once, through different replicas, converge on the server favorites', async () => {
    const customerId = randomUUID()
    const shared = await addFavorite(one.client, customerId, { nickname: 'start' })
    const phone = new Device(await one.customer(customerId), customerId, 'phone')
    const tablet = new Device(await two.customer(customerId), customerId, 'tablet')
    await eventually(() => expect(phone.ready && tablet.ready).toBe(true))

    const drinks = [randomUUID(), randomUUID(), randomUUID()]
    const ids = [
      phone.send(add(drinks[0]!)),
      tablet.send(add(drinks[1]!)),
      phone.send(add(drinks[2]!, { pinned: true })),
      tablet.send(add(drinks[2]!)), // the same drink from both devices: one of them is a duplicate
      phone.send(update({ ...shared, nickname: 'from phone' }, ['nickname'])),
      tablet.send(update({ ...shared, nickname: 'from tablet' }, ['nickname'])),
      tablet.send(update({ ...shared, pinned: true }, ['pinned'])),
    ]
    const phoneAcks = await Promise.all([ids[0], ids[2], ids[4]].map((id) => phone.ack(id!)))
    const tabletAcks = await Promise.all([ids[1], ids[3], ids[5], ids[6]].map((id) => tablet.ack(id!)))
    expect([...phoneAcks, ...tabletAcks].every((a) => a.result !== Result.RESULT_REJECTED)).toBe(true)
    // The same drink was added once: one add applied, the other answered DUPLICATE with the winner.
    expect([phoneAcks[1]!.result, tabletAcks[1]!.result].sort()).toEqual([Result.RESULT_APPLIED, Result.RESULT_DUPLICATE].sort())

    const server = await serverView(customerId)
    expect(Object.keys(server)).toHaveLength(4)
    await eventually(() => {
      expect(phone.view()).toEqual(server)
      expect(tablet.view()).toEqual(server)
    })
    expect(Object.values(server).filter(([, , pinned]) => pinned)).toHaveLength(1)
    phone.requests.end()
    tablet.requests.end()
    expect(await phone.messages.end()).toBeUndefined()
    expect(await tablet.messages.end()).toBeUndefined()
  })

  it('reports conflicts with the winning version, answers a resent change with its first ack, and rejects bad changes', async () => {
    const customerId = randomUUID()
    const keep = await addFavorite(one.client, customerId)
    const gone = await addFavorite(one.client, customerId, { menuItemId: MENU.mocha })
    const device = new Device(await one.customer(customerId), customerId, 'phone')
    await eventually(() => expect(device.ready).toBe(true))

    // Elsewhere: a nickname on one, a removal of the other.
    await one.client.updateFavorite({ favorite: { ...keep, nickname: 'web' }, updateMask: ['nickname'], expectedRevision: '0' })
    await one.client.removeFavorite({ favoriteId: gone.favoriteId, expectedRevision: '0' })

    const overwrite = await device.ack(
      device.send({ ...update({ ...keep, nickname: 'phone' }, ['nickname']), baseRevision: keep.revision }),
    )
    expect(overwrite).toMatchObject({
      result: Result.RESULT_CONFLICT_OVERWRITTEN,
      conflictingFields: ['nickname'],
      favorite: { nickname: 'phone' },
      overwritten: { nickname: 'web' },
    })

    const lost = await device.ack(device.send({ ...update({ ...gone, nickname: 'x' }, ['nickname']), baseRevision: gone.revision }))
    expect(lost).toMatchObject({ result: Result.RESULT_CONFLICT_LOST, removed: true, favorite: { favoriteId: gone.favoriteId } })

    const sameDrink = { ...add(MENU.latte).operation.value, customization: keep.customization }
    const duplicate = await device.ack(device.send({ operation: { $case: 'add', value: sameDrink } }))
    expect(duplicate).toMatchObject({ result: Result.RESULT_DUPLICATE, favorite: { favoriteId: keep.favoriteId } })

    const invalid = await device.ack(
      device.send({ operation: { $case: 'add', value: { ...add(MENU.chai).operation.value, displayName: '' } } }),
    )
    expect(invalid.result).toBe(Result.RESULT_REJECTED)
    expect(invalid.fieldViolations.map((v) => v.field)).toEqual(['add.display_name'])

    // Resent after a "reconnect": the same ack, nothing applied twice.
    const removal = device.send(remove(keep.favoriteId))
    const firstAck = await device.ack(removal)
    device.requests.end()
    await device.messages.end()
    const again = new Device(await one.customer(customerId), customerId, 'phone', Number(firstAck.revision))
    again.send({ ...remove(keep.favoriteId), clientChangeId: removal })
    const resent = await again.ack(removal)
    expect(resent).toEqual(firstAck)
    const { revision } = await one.client.listFavorites({ customerId, pageSize: 0, pageToken: '' })
    expect(revision).toBe(firstAck.revision)
    again.requests.end()
  })

  it('sends the side effects of a pin after its ack, and catches a returning device up with the changes it missed', async () => {
    const customerId = randomUUID()
    const a = await addFavorite(one.client, customerId, { pinned: true })
    const b = await addFavorite(one.client, customerId, { menuItemId: MENU.mocha })
    const device = new Device(await one.customer(customerId), customerId, 'phone', 2)
    const messages = device.messages
    expect((await messages.next()).message).toMatchObject({ $case: 'ready', value: { revision: '2', snapshotSent: false } })
    device.send({ ...update({ ...b, pinned: true }, ['pinned']), baseRevision: b.revision })
    expect((await messages.next()).message).toMatchObject({
      $case: 'ack',
      value: { result: Result.RESULT_APPLIED, revision: '3', favorite: { favoriteId: b.favoriteId, pinned: true } },
    })
    expect((await messages.next()).message).toMatchObject({
      $case: 'change',
      value: { revision: '3', favorite: { favoriteId: a.favoriteId, pinned: false } },
    })
    device.requests.end()
    await device.messages.end()

    // Offline since revision 3; another caller removes a.
    await one.client.removeFavorite({ favoriteId: a.favoriteId, expectedRevision: '0' })
    const back = new Device(await one.customer(customerId), customerId, 'phone', 3)
    const caughtUp = back.messages
    expect((await caughtUp.next()).message).toMatchObject({
      $case: 'change',
      value: { kind: 3, revision: '4', favorite: { favoriteId: a.favoriteId } },
    })
    expect((await caughtUp.next()).message).toMatchObject({ $case: 'ready', value: { revision: '4', snapshotSent: false } })
    back.requests.end()
  })

  it('ends the stream with INVALID_ARGUMENT without a hello first, and PERMISSION_DENIED for another customer', async () => {
    const client = await one.customer(randomUUID())
    const noHello = pushable<SyncFavoritesRequest>()
    const reader = new StreamReader(client.syncFavorites(noHello))
    noHello.push({ message: { $case: 'change', value: { clientChangeId: 'c1', baseRevision: '0', ...add(MENU.latte) } } })
    expect((await reader.end())?.code).toBe(status.INVALID_ARGUMENT)
    const other = new Device(client, randomUUID(), 'phone')
    expect((await other.messages.end())?.code).toBe(status.PERMISSION_DENIED)
  })
})
