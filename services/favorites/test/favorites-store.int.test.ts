import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DrinkSize, MilkType, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { createDatabase, type Database } from '@brewmesh/runtime/db'
import { createLogger } from '@brewmesh/runtime/logger'
import { favoritesStore } from '../src/db/favorites-store.ts'
import type { FavoritesDb } from '../src/db/schema.ts'
import type { FavoritesStore } from '../src/domain/ports.ts'
import { addFavorite, cleanup, favoritesEnv, MENU, startFavorites, type Running } from './support.ts'

// GetUsual's one read against a real PostgreSQL: the live favorites and the learned drinks it
// returns together are what the store's separate reads (live, learned) return, in their order.
const env = favoritesEnv()
let svc: Running
let database: Database<FavoritesDb>
let store: FavoritesStore

beforeAll(async () => {
  svc = await startFavorites(env)
  database = createDatabase<FavoritesDb>(svc.config.postgres, createLogger({ level: 'silent', service: 'test', instanceId: 'test' }))
  store = favoritesStore(database.db, svc.config.postgres.schema, () => [])
})
afterAll(async () => {
  await database?.stop()
  await svc?.stop()
  await cleanup(env)
})

const drink = (size: DrinkSize): DrinkCustomization => ({
  size,
  milk: MilkType.MILK_TYPE_OAT,
  extraShots: 1,
  syrups: [],
  temperature: 0,
  sweetness: 0,
})
const completed = (customerId: string, menuItemId: string, customization: DrinkCustomization, completedAt: Date) =>
  store.transaction((tx) =>
    tx.recordCompletion({ customerId, orderId: randomUUID(), menuItemId, displayName: 'Drink', customization, completedAt }),
  )
const separately = async (customerId: string, since: Date) => ({
  live: (await store.live(customerId)).favorites,
  learned: await store.learned(customerId, since),
})

describe('usualInputs (one read: the live favorites and the learned drinks)', () => {
  it('when the customer has both, then the favorites in list order and the drinks most completed first, as the separate reads give them', async () => {
    const customerId = randomUUID()
    await addFavorite(svc.client, customerId, { menuItemId: MENU.mocha, position: 2 })
    await addFavorite(svc.client, customerId, { menuItemId: MENU.latte, position: 1, pinned: true })
    const since = new Date('2026-11-01T00:00:00Z')
    await completed(customerId, MENU.chai, drink(DrinkSize.DRINK_SIZE_SMALL), new Date('2026-10-31T23:59:59.999Z')) // before the window
    await completed(customerId, MENU.latte, drink(DrinkSize.DRINK_SIZE_MEDIUM), new Date('2026-11-02T08:00:00.123Z'))
    for (const at of ['2026-11-03T08:00:00Z', '2026-11-04T08:00:00.456Z'])
      await completed(customerId, MENU.flatWhite, drink(DrinkSize.DRINK_SIZE_LARGE), new Date(at))

    const inputs = await store.usualInputs(customerId, since)

    expect(inputs).toEqual(await separately(customerId, since))
    expect(inputs.live.map((f) => f.menuItemId)).toEqual([MENU.latte, MENU.mocha])
    expect(inputs.learned.map((d) => [d.menuItemId, d.completedCount, d.lastOrderedAt.toISOString()])).toEqual([
      [MENU.flatWhite, 2, '2026-11-04T08:00:00.456Z'],
      [MENU.latte, 1, '2026-11-02T08:00:00.123Z'],
    ])
  })

  it('when the customer has only favorites, or only learned drinks, or neither, then what there is and empty lists', async () => {
    const [favoritesOnly, learnedOnly, neither] = [randomUUID(), randomUUID(), randomUUID()]
    await addFavorite(svc.client, favoritesOnly, { menuItemId: MENU.mocha })
    await completed(learnedOnly, MENU.chai, drink(DrinkSize.DRINK_SIZE_SMALL), new Date('2026-11-05T08:00:00Z'))
    const since = new Date('2026-11-01T00:00:00Z')

    const [a, b, c] = [
      await store.usualInputs(favoritesOnly, since),
      await store.usualInputs(learnedOnly, since),
      await store.usualInputs(neither, since),
    ]

    expect([a.live.length, a.learned.length, b.live.length, b.learned.length]).toEqual([1, 0, 0, 1])
    expect(a).toEqual(await separately(favoritesOnly, since))
    expect(b).toEqual(await separately(learnedOnly, since))
    expect(c).toEqual({ live: [], learned: [] })
  })
})
