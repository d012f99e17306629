import { describe, expect, it } from 'vitest'
import { DrinkSize, MilkType, Temperature, type DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { Violations } from '@brewmesh/runtime/errors'
import { resolveCustomization, unitPrice } from '../../src/domain/pricing.ts'
import { customization, latteItem } from './fixtures.ts'

const unset: DrinkCustomization = { size: 0, milk: 0, extraShots: 0, syrups: [], temperature: 0, sweetness: 0 }

function resolve(requested: Parameters<typeof resolveCustomization>[1], item = latteItem()) {
  const v = new Violations()
  const resolved = resolveCustomization(item, requested, v, 'lines[0].drink.customization')
  return { resolved, fields: v.list.map((x) => x.field), price: unitPrice(item, resolved) }
}

describe('the unit price of a line (latte 4.50: small −0.50, large +0.60, oat +0.70, syrup +0.60, shot +0.80)', () => {
  it.each([
    ['nothing chosen: the recipe (medium, whole milk)', undefined, 450],
    ['every field unset: the recipe', { ...unset }, 450],
    ['small', { ...unset, size: DrinkSize.DRINK_SIZE_SMALL }, 400],
    ['large with oat', { ...unset, size: DrinkSize.DRINK_SIZE_LARGE, milk: MilkType.MILK_TYPE_OAT }, 580],
    ['two syrups and two extra shots', { ...unset, syrups: ['vanilla', 'caramel'], extraShots: 2 }, 450 + 120 + 160],
    ['a syrup named twice, in another case, counts once', { ...unset, syrups: ['Vanilla', ' vanilla '] }, 510],
    ['iced', { ...unset, temperature: Temperature.TEMPERATURE_ICED }, 450],
  ])('%s', (_, requested, cents) => {
    const { fields, price } = resolve(requested)
    expect(fields).toEqual([])
    expect(price).toBe(cents)
  })
})

describe('a customization the menu item does not allow is a violation of its field', () => {
  const at = (f: string) => `lines[0].drink.customization.${f}`
  it.each([
    ['a milk it is not made with', { milk: MilkType.MILK_TYPE_SOY }, [at('milk')]],
    ['more extra shots than allowed', { extraShots: 5 }, [at('extra_shots')]],
    ['negative extra shots', { extraShots: -1 }, [at('extra_shots')]],
    ['a syrup not offered', { syrups: ['bacon'] }, [at('syrups')]],
    ['a temperature it is not served at', { temperature: Temperature.TEMPERATURE_WARM }, [at('temperature')]],
    ['sweetness beyond 5', { sweetness: 6 }, [at('sweetness')]],
    ['several at once: each named', { milk: MilkType.MILK_TYPE_SOY, sweetness: 9 }, [at('milk'), at('sweetness')]],
  ])('%s', (_, change, fields) => {
    expect(resolve(customization(change)).fields).toEqual(fields)
  })

  it('a syrup the caller names is never repeated in the description', () => {
    const v = new Violations()
    resolveCustomization(latteItem(), customization({ syrups: ['x'.repeat(200)] }), v, 'c')
    expect(v.list.map((x) => x.description).join()).not.toContain('xxxx')
  })

  it('more syrups than the item takes', () => {
    const item = latteItem({ allowed: { ...latteItem().allowed, maxSyrups: 1 } })
    expect(resolve(customization({ syrups: ['vanilla', 'caramel'] }), item).fields).toEqual(['lines[0].drink.customization.syrups'])
  })

  it('a drink of one size takes no other size', () => {
    const espresso = latteItem({ sizes: [], recipe: customization({ size: 0 }) })
    expect(resolve({ ...unset, size: DrinkSize.DRINK_SIZE_LARGE }, espresso).fields).toEqual(['lines[0].drink.customization.size'])
    expect(resolve({ ...unset }, espresso).fields).toEqual([])
  })
})
