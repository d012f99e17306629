import { describe, expect, it } from 'vitest'
import { AppError } from '@brewmesh/runtime/errors'
import { Edit } from '../src/domain/edit.ts'
import { drinkKey, NO_CUSTOMIZATION, type DrinkInput, type Favorite, type LearnedDrink } from '../src/domain/favorite.ts'
import { readImport, type ImportMessage } from '../src/domain/import-favorites.ts'
import type { CustomerFavorites } from '../src/domain/ports.ts'
import { ChangeCursor } from '../src/domain/replay.ts'
import { isFavoriteDrink, usualChange, usualOf, usualWindow } from '../src/domain/usual.ts'

const NOW = new Date('2026-11-23T12:00:00Z')
const origin = { actor: { kind: 1, id: 'c1' }, deviceId: '', clientChangeId: '' }
let ids = 0
const newId = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`

const drink = (menuItemId: string, extra: Partial<DrinkInput> = {}): DrinkInput => ({
  menuItemId,
  displayName: 'Drink',
  customization: NO_CUSTOMIZATION,
  nickname: '',
  position: undefined,
  pinned: false,
  ...extra,
})

function stateWith(live: Favorite[] = [], revision = live.reduce((r, f) => Math.max(r, f.revision), 0)): CustomerFavorites {
  return { customerId: 'c1', revision, prunedThrough: 0, deletedAt: undefined, live }
}
const edit = (state: CustomerFavorites) => new Edit(state, origin, NOW, newId)

describe('drinkKey', () => {
  it('treats syrups as a set and menu item ids case-insensitively', () => {
    const a = drinkKey('ABC', { ...NO_CUSTOMIZATION, syrups: ['Vanilla', 'caramel', 'vanilla'] })
    expect(a).toBe(drinkKey('abc', { ...NO_CUSTOMIZATION, syrups: ['caramel', 'vanilla'] }))
    expect(a).not.toBe(drinkKey('abc', { ...NO_CUSTOMIZATION, syrups: ['caramel'] }))
    expect(drinkKey('abc', { ...NO_CUSTOMIZATION, size: 1 })).not.toBe(drinkKey('abc', NO_CUSTOMIZATION))
  })
})

describe('an edit', () => {
  it('gives every change of one operation the same revision, and an added-then-pinned favorite stays one "added" change', () => {
    const first = edit(stateWith())
    const a = first.add(drink('a'))
    const seeded = stateWith([{ ...a, pinned: true }], 1)
    const e = edit(seeded)
    const b = e.add(drink('b', { pinned: true }))
    expect(e.changes.map((c) => [c.kind, c.favorite.id, c.revision, c.favorite.pinned])).toEqual([
      ['added', b.id, 2, true],
      ['updated', a.id, 2, false],
    ])
    expect(e.changes[1]?.changedFields).toEqual(['pinned'])
    expect(b.position).toBe(1)
  })

  it('refuses a second favorite with the same drink, and stops at 100', () => {
    const e = edit(stateWith())
    e.add(drink('a'))
    expect(() => e.add(drink('a'))).toThrow(AppError)
    for (let i = 0; i < 99; i++) e.add(drink(`m${i}`))
    const limit = (() => {
      try {
        e.add(drink('one-too-many'))
      } catch (err) {
        return (err as AppError).kind
      }
    })()
    expect(limit).toBe('precondition')
  })

  it('records nothing when an update writes the values it already has', () => {
    const a = edit(stateWith()).add(drink('a', { nickname: 'x' }))
    const e = edit(stateWith([a], 1))
    e.update(a.id, { nickname: 'x' })
    expect(e.changes).toEqual([])
    e.update(a.id, { nickname: 'y' })
    expect(e.changes.map((c) => c.changedFields)).toEqual([['nickname']])
  })

  it('turns a removal into a tombstone with the removal revision', () => {
    const a = edit(stateWith()).add(drink('a'))
    const e = edit(stateWith([a], 4))
    const tombstone = e.remove(a.id, 'removed by customer')
    expect(tombstone).toMatchObject({ revision: 5, removedAt: NOW })
    expect(e.favorites()).toEqual([])
  })
})

const learned = (menuItemId: string, completedCount: number): LearnedDrink => ({
  customerId: 'c1',
  menuItemId,
  displayName: menuItemId,
  customization: NO_CUSTOMIZATION,
  completedCount,
  firstOrderedAt: NOW,
  lastOrderedAt: NOW,
  lastOrderId: 'o1',
  favoriteId: '',
})

describe('the usual', () => {
  const window = usualWindow(NOW, 30)

  it('is the pinned favorite, with its drink completed count; else the most completed drink; else none', () => {
    const a = edit(stateWith()).add(drink('a'))
    const pinned = { ...a, pinned: true }
    expect(usualOf([pinned], [learned('b', 5), learned('a', 2)], window)).toMatchObject({ source: 'pinned', completedCount: 2 })
    expect(usualOf([a], [learned('a', 5)], window)).toMatchObject({ source: 'learned', completedCount: 5, learned: { favoriteId: a.id } })
    expect(usualOf([a], [], window)).toBeUndefined()
    expect(window.startAt.toISOString()).toBe('2026-10-24T12:00:00.000Z')
  })

  it('names the cause of a change', () => {
    const a = edit(stateWith()).add(drink('a'))
    const pinnedA = usualOf([{ ...a, pinned: true }], [], window)
    const learnedB = usualOf([], [learned('b', 1)], window)
    const learnedC = usualOf([], [learned('c', 2)], window)
    expect(usualChange(undefined, pinnedA, new Set())?.cause).toBe('pinned')
    expect(usualChange(pinnedA, learnedB, new Set())?.cause).toBe('unpinned')
    expect(usualChange(pinnedA, undefined, new Set([a.id]))?.cause).toBe('pinned_removed')
    expect(usualChange(pinnedA, usualOf([{ ...a, pinned: true, menuItemId: 'z' }], [], window), new Set())?.cause).toBe('pinned_updated')
    expect(usualChange(learnedB, learnedC, new Set())?.cause).toBe('learned')
    expect(usualChange(learnedB, usualOf([], [learned('b', 7)], window), new Set())).toBeUndefined()
  })
})

describe('matching completed drinks to a favorite', () => {
  it('lets the favorite fields left to the recipe match what the order resolved, and nothing else', () => {
    const f = edit(stateWith()).add(drink('m1', { customization: { ...NO_CUSTOMIZATION, milk: 4 } }))
    const resolved = { menuItemId: 'M1', customization: { size: 2, milk: 4, extraShots: 0, syrups: [], temperature: 1, sweetness: 0 } }
    expect(isFavoriteDrink(f, resolved)).toBe(true)
    expect(isFavoriteDrink(f, { ...resolved, customization: { ...resolved.customization, milk: 2 } })).toBe(false)
    expect(isFavoriteDrink(f, { ...resolved, customization: { ...resolved.customization, extraShots: 1 } })).toBe(false)
    expect(isFavoriteDrink(f, { ...resolved, menuItemId: 'm2' })).toBe(false)
  })
})

describe('a change cursor', () => {
  it('passes each favorite of a new revision once and nothing at or below a closed revision', () => {
    const cursor = new ChangeCursor(3)
    expect(cursor.accept(3, 'a')).toBe(false)
    expect(cursor.accept(4, 'a')).toBe(true)
    expect(cursor.accept(4, 'b')).toBe(true)
    expect(cursor.accept(4, 'a')).toBe(false) // redelivered
    expect(cursor.accept(2, 'c')).toBe(false)
    cursor.closeAt(6)
    expect(cursor.accept(5, 'd')).toBe(false)
    expect(cursor.accept(6, 'd')).toBe(false)
    expect(cursor.accept(7, 'd')).toBe(true)
  })
})

describe('reading an import', () => {
  const header: ImportMessage = { header: { customerId: '7d3c9c2e-1f5b-4c8a-9f0e-2b6d4a1c3e5f', deviceId: 'phone' } }
  const row: ImportMessage = { row: { rowNumber: 0, drink: drink('a') } }
  async function* stream(...messages: ImportMessage[]) {
    yield* messages
  }
  const fieldsOf = (p: Promise<unknown>) =>
    p.then(
      () => [],
      (err: AppError) => err.violations.map((v) => v.field),
    )

  it('wants the header once and first, then 1 to 100 rows, numbering rows the device left unnumbered', async () => {
    const headers: string[] = []
    const read = await readImport(stream(header, row, row), async (h) => void headers.push(h.deviceId))
    expect(read.rows.map((r) => r.rowNumber)).toEqual([1, 2])
    expect(headers).toEqual(['phone'])
    expect(await fieldsOf(readImport(stream(row), async () => undefined))).toEqual(['header'])
    expect(await fieldsOf(readImport(stream(header, row, header), async () => undefined))).toEqual(['header'])
    expect(await fieldsOf(readImport(stream(header), async () => undefined))).toEqual(['row'])
    expect(await fieldsOf(readImport(stream(header, ...Array<ImportMessage>(101).fill(row)), async () => undefined))).toEqual(['row'])
  })
})
