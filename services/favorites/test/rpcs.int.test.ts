import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DrinkSize, MilkType, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { ActorKind } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import { UsualSource } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import { errorReasonOf, fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { addFavorite, addRequest, cleanup, favoritesEnv, MENU, startFavorites, type Running } from './support.ts'

let svc: Running
const env = favoritesEnv()
beforeAll(async () => {
  svc = await startFavorites(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const list = (customerId: string, pageSize = 0, pageToken = '') => svc.client.listFavorites({ customerId, pageSize, pageToken })
const usualOf = (customerId: string) => svc.client.getUsual({ customerId })

describe('AddFavorite', () => {
  it('saves the drink with the next revision and puts it last', async () => {
    const customerId = randomUUID()
    const first = await addFavorite(svc.client, customerId, { nickname: ' Monday fuel ' })
    const second = await addFavorite(svc.client, customerId, { menuItemId: MENU.mocha, displayName: 'Mocha' })
    expect(first).toMatchObject({ customerId, menuItemId: MENU.latte, nickname: 'Monday fuel', position: 0, revision: '1', pinned: false })
    expect(second).toMatchObject({ position: 1, revision: '2' })
    expect(second.updatedBy).toMatchObject({ kind: ActorKind.ACTOR_KIND_STAFF, id: 'staff-test' })
    const page = await list(customerId)
    expect(page.favorites.map((f) => f.favoriteId)).toEqual([first.favoriteId, second.favoriteId])
    expect(page.revision).toBe('2')
  })

  it('answers a retry with the same request id with the first favorite, and refuses the id for another request', async () => {
    const customerId = randomUUID()
    const request = addRequest(customerId)
    const first = await svc.client.addFavorite(request)
    const again = await svc.client.addFavorite(request)
    expect(again.favorite?.favoriteId).toBe(first.favorite?.favoriteId)
    expect((await list(customerId)).favorites).toHaveLength(1)
    const err = await failure(svc.client.addFavorite({ ...request, nickname: 'other' }))
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(['request_id'])
  })

  it('refuses the same drink twice with ALREADY_EXISTS, syrups compared as a set', async () => {
    const customerId = randomUUID()
    const custom: DrinkCustomization = {
      size: DrinkSize.DRINK_SIZE_MEDIUM,
      milk: MilkType.MILK_TYPE_OAT,
      extraShots: 1,
      syrups: ['vanilla', 'caramel'],
      temperature: 0,
      sweetness: 2,
    }
    await addFavorite(svc.client, customerId, { customization: custom })
    const err = await failure(addFavorite(svc.client, customerId, { customization: { ...custom, syrups: ['Caramel', 'vanilla'] } }))
    expect(err.code).toBe(status.ALREADY_EXISTS)
  })

  it('reports every invalid field as a field violation', async () => {
    const err = await failure(
      addFavorite(svc.client, 'not-a-uuid', {
        requestId: '',
        menuItemId: '',
        displayName: '',
        nickname: 'x'.repeat(41),
        position: -1,
        customization: { size: 9 as DrinkSize, milk: 0, extraShots: 5, syrups: ['a', 'b', 'c', 'd', 'e'], temperature: 0, sweetness: 6 },
      }),
    )
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(
      fieldViolationsOf(err)
        .map((v) => v.field)
        .sort(),
    ).toEqual(
      [
        'request_id',
        'customer_id',
        'menu_item_id',
        'display_name',
        'nickname',
        'position',
        'customization.size',
        'customization.extra_shots',
        'customization.sweetness',
        'customization.syrups',
      ].sort(),
    )
  })

  it('stops at 100 favorites with FAILED_PRECONDITION', async () => {
    const customerId = randomUUID()
    for (let i = 0; i < 100; i++)
      await addFavorite(svc.client, customerId, {
        customization: { size: 0, milk: 0, extraShots: 0, syrups: [], temperature: 0, sweetness: 0 },
        menuItemId: randomUUID(),
      })
    const err = await failure(addFavorite(svc.client, customerId, { menuItemId: randomUUID() }))
    expect(err.code).toBe(status.FAILED_PRECONDITION)
    expect(err.details).toContain('limit')
    expect(errorReasonOf(err)).toBe('FAVORITE_LIMIT_REACHED')
  })

  it('keeps positions within 0 to 1,000,000, so a favorite put at the end never stops the next one from being added', async () => {
    const customerId = randomUUID()
    const tooFar = await failure(addFavorite(svc.client, customerId, { position: 2_147_483_647 }))
    expect(tooFar.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(tooFar)).toEqual([{ field: 'position', description: 'must be 0 to 1000000' }])
    await addFavorite(svc.client, customerId, { position: 1_000_000 })
    const next = await addFavorite(svc.client, customerId, { menuItemId: MENU.mocha })
    expect(next.position).toBe(1_000_001)
  })
})

describe('UpdateFavorite and RemoveFavorite', () => {
  it('writes only the masked fields and refuses a stale expected revision with ABORTED', async () => {
    const customerId = randomUUID()
    const f = await addFavorite(svc.client, customerId)
    const updated = await svc.client.updateFavorite({
      favorite: { ...f, nickname: 'Usual latte', displayName: 'ignored' },
      updateMask: ['nickname'],
      expectedRevision: f.revision,
    })
    expect(updated.favorite).toMatchObject({ nickname: 'Usual latte', displayName: 'Caffè Latte', revision: '2' })
    const stale = await failure(
      svc.client.updateFavorite({ favorite: { ...f, nickname: 'x' }, updateMask: ['nickname'], expectedRevision: f.revision }),
    )
    expect(stale.code).toBe(status.ABORTED)
    expect(errorReasonOf(stale)).toBe('REVISION_MISMATCH')
    const badMask = await failure(svc.client.updateFavorite({ favorite: f, updateMask: ['pinned'], expectedRevision: '0' }))
    expect(badMask.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(badMask)[0]?.field).toBe('update_mask')
  })

  it('refuses an update that would duplicate another favorite', async () => {
    const customerId = randomUUID()
    await addFavorite(svc.client, customerId)
    const mocha = await addFavorite(svc.client, customerId, { menuItemId: MENU.mocha })
    const err = await failure(
      svc.client.updateFavorite({ favorite: { ...mocha, menuItemId: MENU.latte }, updateMask: ['menu_item_id'], expectedRevision: '0' }),
    )
    expect(err.code).toBe(status.ALREADY_EXISTS)
  })

  it('removes a favorite once; the second removal is NOT_FOUND, and a pinned removal clears the usual', async () => {
    const customerId = randomUUID()
    const f = await addFavorite(svc.client, customerId, { pinned: true })
    const removed = await svc.client.removeFavorite({ favoriteId: f.favoriteId, expectedRevision: '0' })
    expect(removed.revision).toBe('2')
    expect((await list(customerId)).favorites).toHaveLength(0)
    expect((await failure(svc.client.removeFavorite({ favoriteId: f.favoriteId, expectedRevision: '0' }))).code).toBe(status.NOT_FOUND)
    expect((await failure(usualOf(customerId))).code).toBe(status.NOT_FOUND)
    expect((await failure(svc.client.removeFavorite({ favoriteId: randomUUID(), expectedRevision: '0' }))).code).toBe(status.NOT_FOUND)
  })
})

describe('ListFavorites', () => {
  it('pages by position with tokens pinned to the customer', async () => {
    const customerId = randomUUID()
    const ids: string[] = []
    for (let i = 0; i < 5; i++)
      ids.push((await addFavorite(svc.client, customerId, { menuItemId: randomUUID(), position: 10 - i })).favoriteId)
    const first = await list(customerId, 2)
    const second = await list(customerId, 2, first.nextPageToken)
    const third = await list(customerId, 2, second.nextPageToken)
    expect([...first.favorites, ...second.favorites, ...third.favorites].map((f) => f.favoriteId)).toEqual([...ids].reverse())
    expect(third.nextPageToken).toBe('')
    expect((await failure(list(randomUUID(), 2, first.nextPageToken))).code).toBe(status.INVALID_ARGUMENT)
    expect((await list(randomUUID())).favorites).toEqual([])
    // A token forged with a position no listing produces: refused as a token, never a failed query.
    const forged = Buffer.from(JSON.stringify({ p: { p: 'x', t: 9e99, i: 'a' }, f: 'whatever' })).toString('base64url')
    const refused = await failure(list(customerId, 2, forged))
    expect(refused.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(refused).map((v) => v.field)).toEqual(['page_token'])
  })
})

describe('SetUsual and GetUsual', () => {
  it('pins one favorite at a time, idempotently, and clears the pin', async () => {
    const customerId = randomUUID()
    const a = await addFavorite(svc.client, customerId)
    const b = await addFavorite(svc.client, customerId, { menuItemId: MENU.mocha })
    const pinA = await svc.client.setUsual({ customerId, favoriteId: a.favoriteId, expectedRevision: '0' })
    expect(pinA.usual?.source).toBe(UsualSource.USUAL_SOURCE_PINNED)
    const again = await svc.client.setUsual({ customerId, favoriteId: a.favoriteId, expectedRevision: '0' })
    expect(again.revision).toBe(pinA.revision)
    const pinB = await svc.client.setUsual({ customerId, favoriteId: b.favoriteId, expectedRevision: pinA.revision })
    expect(pinB.usual?.drink).toMatchObject({ $case: 'favorite', value: { favoriteId: b.favoriteId, pinned: true } })
    const page = await list(customerId)
    expect(page.favorites.filter((f) => f.pinned).map((f) => f.favoriteId)).toEqual([b.favoriteId])
    // Both changed in one operation: one revision.
    expect(page.favorites.map((f) => f.revision)).toEqual([pinB.revision, pinB.revision])
    const stale = await failure(svc.client.setUsual({ customerId, favoriteId: '', expectedRevision: pinA.revision }))
    expect(stale.code).toBe(status.ABORTED)
    const cleared = await svc.client.setUsual({ customerId, favoriteId: '', expectedRevision: '0' })
    expect(cleared.usual).toBeUndefined()
    expect((await failure(usualOf(customerId))).code).toBe(status.NOT_FOUND)
    expect((await failure(svc.client.setUsual({ customerId, favoriteId: randomUUID(), expectedRevision: '0' }))).code).toBe(
      status.NOT_FOUND,
    )
  })
})
