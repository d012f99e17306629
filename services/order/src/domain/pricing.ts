import type { DrinkCustomization } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import type { MenuItem } from '@brewmesh/gen/brewmesh/order/v1/order.ts'
import { type Violations } from '@brewmesh/runtime/errors'
import { minor } from './money.ts'

/**
 * A line's customization against its menu item: every unspecified field filled from the recipe,
 * every value checked against what the item allows (violations named under `at`, e.g.
 * "lines[0].drink.customization.milk").
 */
export function resolveCustomization(
  item: MenuItem,
  requested: DrinkCustomization | undefined,
  v: Violations,
  at: string,
): DrinkCustomization {
  const recipe = item.defaultCustomization
  const allowed = item.allowed
  const r = requested ?? { size: 0, milk: 0, extraShots: 0, syrups: [], temperature: 0, sweetness: 0 }
  const defaultSize = item.sizes.find((s) => minor(s.priceDelta) === 0)?.size ?? recipe?.size ?? 0
  const resolved: DrinkCustomization = {
    size: r.size || defaultSize,
    milk: r.milk || recipe?.milk || 0,
    extraShots: r.extraShots,
    syrups: [...new Set((r.syrups.length > 0 ? r.syrups : (recipe?.syrups ?? [])).map((s) => s.trim().toLowerCase()))].sort(),
    temperature: r.temperature || recipe?.temperature || 0,
    sweetness: r.sweetness || recipe?.sweetness || 0,
  }
  if (item.sizes.length > 0)
    v.check(
      item.sizes.some((s) => s.size === resolved.size),
      `${at}.size`,
      `${item.name} does not come in this size`,
    )
  else v.check(r.size === 0 || r.size === recipe?.size, `${at}.size`, `${item.name} comes in one size`)
  const milks = allowed?.milks ?? []
  if (milks.length > 0)
    v.check(
      milks.some((m) => m.milk === resolved.milk),
      `${at}.milk`,
      `${item.name} is not made with this milk`,
    )
  else v.check(r.milk === 0 || r.milk === 1, `${at}.milk`, `${item.name} takes no milk`)
  v.check(
    resolved.extraShots >= 0 && resolved.extraShots <= (allowed?.maxExtraShots ?? 0),
    `${at}.extra_shots`,
    `at most ${allowed?.maxExtraShots ?? 0} extra shots`,
  )
  const syrups = allowed?.syrups ?? []
  v.check(resolved.syrups.length <= (allowed?.maxSyrups ?? 0), `${at}.syrups`, `at most ${allowed?.maxSyrups ?? 0} syrups`)
  for (const s of resolved.syrups)
    v.check(
      syrups.some((o) => o.name === s),
      `${at}.syrups`,
      `"${s}" is not offered for ${item.name}`,
    )
  const temperatures = allowed?.temperatures ?? []
  if (temperatures.length > 0)
    v.check(temperatures.includes(resolved.temperature), `${at}.temperature`, `${item.name} is not served at this temperature`)
  else
    v.check(r.temperature === 0 || r.temperature === recipe?.temperature, `${at}.temperature`, `${item.name} is served as the recipe says`)
  v.check(resolved.sweetness >= 0 && resolved.sweetness <= 5, `${at}.sweetness`, 'must be 0 to 5')
  if (!allowed?.sweetnessAdjustable) v.check(r.sweetness === 0, `${at}.sweetness`, `${item.name} is not sweetened to order`)
  return resolved
}

/** base_price + size price_delta + milk, syrup and extra shot surcharges (a resolved, valid customization). */
export function unitPrice(item: MenuItem, c: DrinkCustomization): number {
  const size = minor(item.sizes.find((s) => s.size === c.size)?.priceDelta)
  const milk = minor(item.allowed?.milks.find((m) => m.milk === c.milk)?.surcharge)
  const syrups = c.syrups.reduce((sum, name) => sum + minor(item.allowed?.syrups.find((s) => s.name === name)?.surcharge), 0)
  const shots = c.extraShots * minor(item.allowed?.extraShotPrice)
  return minor(item.basePrice) + size + milk + syrups + shots
}
