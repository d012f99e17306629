import type { Violations } from '@brewmesh/runtime/errors'
import type { DrinkCustomization, MenuItem } from './order.ts'

// Customization enum fields are the contract's values: 0 is "unspecified" (proto3's zero value),
// every other value is only ever compared with what the menu item lists.
const UNSPECIFIED = 0

/** A customization that leaves every field to the recipe. */
export const UNSET: DrinkCustomization = {
  size: UNSPECIFIED,
  milk: UNSPECIFIED,
  extraShots: 0,
  syrups: [],
  temperature: UNSPECIFIED,
  sweetness: 0,
}

/**
 * A line's customization against its menu item: every unspecified field filled from the recipe,
 * every value checked against what the item allows (violations named under `at`, e.g.
 * "lines[0].drink.customization.milk"; a syrup by its index, never by the caller's text).
 */
export function resolveCustomization(
  item: MenuItem,
  requested: DrinkCustomization | undefined,
  v: Violations,
  at: string,
): DrinkCustomization {
  const recipe = item.recipe
  const allowed = item.allowed
  const r = requested ?? UNSET
  const defaultSize = item.sizes.find((s) => s.priceDelta === 0)?.size ?? recipe.size
  const syrups = [...new Set((r.syrups.length > 0 ? r.syrups : recipe.syrups).map((s) => s.trim().toLowerCase()))].sort()
  const resolved: DrinkCustomization = {
    size: r.size || defaultSize,
    milk: r.milk || recipe.milk,
    extraShots: r.extraShots,
    syrups,
    temperature: r.temperature || recipe.temperature,
    sweetness: r.sweetness || recipe.sweetness,
  }
  if (item.sizes.length > 0)
    v.check(
      item.sizes.some((s) => s.size === resolved.size),
      `${at}.size`,
      `${item.name} does not come in this size`,
    )
  else v.check(r.size === UNSPECIFIED || r.size === recipe.size, `${at}.size`, `${item.name} comes in one size`)
  // A drink that lists no milks takes none: unspecified, or the recipe's own "no milk".
  if (allowed.milks.length > 0)
    v.check(
      allowed.milks.some((m) => m.milk === resolved.milk),
      `${at}.milk`,
      `${item.name} is not made with this milk`,
    )
  else v.check(r.milk === UNSPECIFIED || r.milk === recipe.milk, `${at}.milk`, `${item.name} takes no milk`)
  v.check(
    resolved.extraShots >= 0 && resolved.extraShots <= allowed.maxExtraShots,
    `${at}.extra_shots`,
    `at most ${allowed.maxExtraShots} extra shots`,
  )
  v.check(resolved.syrups.length <= allowed.maxSyrups, `${at}.syrups`, `at most ${allowed.maxSyrups} syrups`)
  const offered = new Set(allowed.syrups.map((s) => s.name))
  const unknown = syrups.filter((s) => !offered.has(s)).length
  if (unknown > 0) v.add(`${at}.syrups`, `${unknown} of these syrups ${unknown === 1 ? 'is' : 'are'} not offered for ${item.name}`)
  if (allowed.temperatures.length > 0)
    v.check(allowed.temperatures.includes(resolved.temperature), `${at}.temperature`, `${item.name} is not served at this temperature`)
  else
    v.check(
      r.temperature === UNSPECIFIED || r.temperature === recipe.temperature,
      `${at}.temperature`,
      `${item.name} is served as the recipe says`,
    )
  v.check(resolved.sweetness >= 0 && resolved.sweetness <= 5, `${at}.sweetness`, 'must be 0 to 5')
  if (!allowed.sweetnessAdjustable) v.check(r.sweetness === 0, `${at}.sweetness`, `${item.name} is not sweetened to order`)
  return resolved
}

/** base price + size delta + milk, syrup and extra shot surcharges (a resolved, valid customization). */
export function unitPrice(item: MenuItem, c: DrinkCustomization): number {
  const size = item.sizes.find((s) => s.size === c.size)?.priceDelta ?? 0
  const milk = item.allowed.milks.find((m) => m.milk === c.milk)?.surcharge ?? 0
  const syrups = c.syrups.reduce((sum, name) => sum + (item.allowed.syrups.find((s) => s.name === name)?.surcharge ?? 0), 0)
  return item.basePrice + size + milk + syrups + c.extraShots * item.allowed.extraShotPrice
}
