import { Violations, type FieldViolation } from '@brewmesh/runtime/errors'
import { checkUuid } from '@brewmesh/runtime/ids'
import { MAX_AMOUNT, type Cart, type Money } from './model.ts'

const CURRENCY = /^[A-Z]{3}$/

export function checkText(v: Violations, value: string, field: string, max: number, required = true): void {
  const length = [...value].length
  if (required && length === 0) v.add(field, 'is required')
  else if (length > max) v.add(field, `must have at most ${max} characters`)
}

/** Parses an int64 sent as a decimal string; undefined beyond +/- MAX_AMOUNT (where a number is no longer exact). */
export function parsePoints(raw: string): number | undefined {
  if (!/^-?\d{1,16}$/.test(raw.trim())) return undefined
  const n = Number(raw)
  return Number.isSafeInteger(n) ? n : undefined
}

/** What a points field must be, as the contract says it. */
export const NON_ZERO_POINTS = `must be a non-zero integer from -${MAX_AMOUNT} to ${MAX_AMOUNT}`

/** An amount of a cart: 0 to MAX_AMOUNT minor units (a missing amount reads as -1). */
const inRange = (m: Money) => Number.isSafeInteger(m.amountMinor) && m.amountMinor >= 0
const AMOUNT = `is required, 0 to ${MAX_AMOUNT} minor units`

export const MAX_ITEMS = 100
export const MAX_CHOSEN = 5

/**
 * Cart rules shared by QuoteRewards, RedeemReward and CheckoutSession: 1 to 100 items with unique
 * line ids, quantities 1 to 20, line_total = unit_price x quantity, subtotal = sum of line totals,
 * one currency, at most 5 chosen reward ids (UUIDs). Every problem is reported at once.
 */
export function cartViolations(cart: Cart | undefined, prefix = 'cart'): Violations {
  const v = new Violations()
  if (!cart) return v.add(prefix, 'is required')
  const currency = cart.subtotal.currency
  v.check(CURRENCY.test(currency), `${prefix}.subtotal.currency_code`, 'must be an ISO 4217 code such as USD')
  if (cart.items.length === 0) v.add(`${prefix}.items`, 'needs at least one item')
  if (cart.items.length > MAX_ITEMS) v.add(`${prefix}.items`, `at most ${MAX_ITEMS} items`)
  const lineIds = new Set<string>()
  let sum = 0
  cart.items.forEach((item, i) => {
    const f = `${prefix}.items[${i}]`
    if (!item.lineId) v.add(`${f}.line_id`, 'is required')
    else if (lineIds.has(item.lineId)) v.add(`${f}.line_id`, 'must be unique in the cart')
    lineIds.add(item.lineId)
    checkText(v, item.menuItemId, `${f}.menu_item_id`, 128)
    v.check(Number.isInteger(item.quantity) && item.quantity >= 1 && item.quantity <= 20, `${f}.quantity`, 'must be 1 to 20')
    v.check(inRange(item.unitPrice), `${f}.unit_price`, AMOUNT)
    v.check(item.unitPrice.currency === currency, `${f}.unit_price.currency_code`, "must be the subtotal's currency")
    v.check(item.lineTotal.currency === currency, `${f}.line_total.currency_code`, "must be the subtotal's currency")
    // Exact: unit_price and quantity are within range, and a product past MAX_AMOUNT never equals a line total within it.
    if (!inRange(item.lineTotal)) v.add(`${f}.line_total`, AMOUNT)
    else if (inRange(item.unitPrice))
      v.check(item.lineTotal.amountMinor === item.unitPrice.amountMinor * item.quantity, `${f}.line_total`, 'must be unit_price x quantity')
    sum += item.lineTotal.amountMinor
  })
  // Exact too while the sum stays within MAX_AMOUNT; past it, it never equals a subtotal within it.
  if (!inRange(cart.subtotal)) v.add(`${prefix}.subtotal`, AMOUNT)
  else if (cart.items.length > 0)
    v.check(
      cart.subtotal.amountMinor === sum,
      `${prefix}.subtotal`,
      `must be the sum of the line totals${Number.isSafeInteger(sum) ? ` (${sum})` : ''}`,
    )
  if (cart.chosenRewardIds.length > MAX_CHOSEN) v.add(`${prefix}.chosen_reward_ids`, `at most ${MAX_CHOSEN} rewards`)
  cart.chosenRewardIds.forEach((id, i) => checkUuid(v, id, `${prefix}.chosen_reward_ids[${i}]`))
  return v
}

/**
 * A status or step message about invalid fields: the first field and what is wrong with it, and
 * how many more there are (the field violations carry each one). It names fields, never what the
 * caller sent, so it stays short however many items, currencies or characters a request holds.
 */
export function summaryOf(what: string, violations: readonly FieldViolation[]): string {
  const [first] = violations
  if (!first) return what
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : ''
  return `${what}: ${first.field} ${first.description}${more}`
}

export function requireValidCart(cart: Cart | undefined, prefix = 'cart'): asserts cart is Cart {
  const v = cartViolations(cart, prefix)
  v.throwIfAny(summaryOf('invalid cart', v.list))
}
