import { type Violations } from '@brewmesh/runtime/errors'
import { checkUuid } from '@brewmesh/runtime/ids'
import { MAX_POSITION, normalizeSyrups, type DrinkCustomization, type DrinkInput } from './favorite.ts'

// Enum ranges from proto/brewmesh/common/v1/drink.proto; 0 is UNSPECIFIED ("as the recipe says").
const MAX_SIZE = 3
const MAX_MILK = 7
const MAX_TEMPERATURE = 4

export function checkText(v: Violations, value: string, field: string, { min = 1, max }: { min?: number; max: number }): void {
  const length = [...value].length
  if (length < min) v.add(field, min === 1 ? 'is required' : `must have at least ${min} characters`)
  else if (length > max) v.add(field, `must have at most ${max} characters`)
}

export function checkCustomization(v: Violations, c: DrinkCustomization, prefix: string): void {
  v.check(c.size >= 0 && c.size <= MAX_SIZE, `${prefix}.size`, 'unknown drink size')
  v.check(c.milk >= 0 && c.milk <= MAX_MILK, `${prefix}.milk`, 'unknown milk type')
  v.check(c.temperature >= 0 && c.temperature <= MAX_TEMPERATURE, `${prefix}.temperature`, 'unknown temperature')
  v.check(Number.isInteger(c.extraShots) && c.extraShots >= 0 && c.extraShots <= 4, `${prefix}.extra_shots`, 'must be 0 to 4')
  v.check(Number.isInteger(c.sweetness) && c.sweetness >= 0 && c.sweetness <= 5, `${prefix}.sweetness`, 'must be 0 to 5')
  v.check(c.syrups.length <= 4, `${prefix}.syrups`, 'at most 4 syrups')
  c.syrups.forEach((s, i) => checkText(v, s, `${prefix}.syrups[${i}]`, { max: 40 }))
}

/** Trims what should be and makes syrups a set, so equal drinks compare equal. */
export function normalizeDrink(input: DrinkInput): DrinkInput {
  return {
    ...input,
    menuItemId: input.menuItemId.trim().toLowerCase(),
    displayName: input.displayName.trim(),
    nickname: input.nickname.trim(),
    customization: { ...input.customization, syrups: normalizeSyrups(input.customization.syrups) },
  }
}

/** Checks the given fields of a normalized drink (all by default); field names are prefixed, e.g. "add.nickname". */
export function checkDrink(v: Violations, d: DrinkInput, prefix = '', fields?: ReadonlySet<string>): void {
  const want = (f: string) => !fields || fields.has(f)
  const at = (f: string) => prefix + f
  if (want('menu_item_id')) checkUuid(v, d.menuItemId, at('menu_item_id'))
  if (want('display_name')) checkText(v, d.displayName, at('display_name'), { max: 80 })
  if (want('customization')) checkCustomization(v, d.customization, at('customization'))
  if (want('nickname')) checkText(v, d.nickname, at('nickname'), { min: 0, max: 40 })
  if (want('position') && d.position !== undefined) {
    v.check(Number.isInteger(d.position) && d.position >= 0 && d.position <= MAX_POSITION, at('position'), `must be 0 to ${MAX_POSITION}`)
  }
}

/** A request id (idempotency key) or client change id: required, at most 128 characters. */
export function checkKey(v: Violations, value: string, field: string): void {
  checkText(v, value, field, { max: 128 })
}
