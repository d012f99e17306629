import { allocate, allocateWithin, taxOf } from './money.ts'
import type { AppliedReward, MemberBreakdown, OrderLine } from './order.ts'

export interface Totals {
  subtotal: number
  /** The rewards' discounts, never more than the subtotal. */
  discount: number
  tax: number
  total: number
}

/** subtotal = Σ line totals; discount ≤ subtotal; tax = round_half_up((subtotal − discount) × bps / 10000); total = subtotal − discount + tax. */
export function totals(lines: readonly OrderLine[], rewards: readonly AppliedReward[], taxRateBps: number): Totals {
  const subtotal = lines.reduce((s, l) => s + l.lineTotal, 0)
  const discount = Math.min(
    rewards.reduce((s, r) => s + r.discount, 0),
    subtotal,
  )
  const tax = taxOf(subtotal - discount, taxRateBps)
  return { subtotal, discount, tax, total: subtotal - discount + tax }
}

/**
 * Per-member totals of a group order that sum exactly to the order's: a discount goes to the
 * member whose line it covers, else in proportion to member subtotals, never more than a member's
 * own subtotal; tax is allocated on what
 * each member owes after discounts; every rounding remainder goes to the payer's share.
 */
export function breakdowns(
  lines: readonly OrderLine[],
  rewards: readonly AppliedReward[],
  taxRateBps: number,
  payerId: string,
): MemberBreakdown[] {
  const members = [...new Set(lines.map((l) => l.memberCustomerId))]
  const linesOf = (m: string) => lines.filter((l) => l.memberCustomerId === m)
  const subtotals = members.map((m) => linesOf(m).reduce((s, l) => s + l.lineTotal, 0))
  const claimed = members.map(() => 0)
  const payerIndex = Math.max(0, members.indexOf(payerId))
  for (const r of rewards) {
    const owner = r.lineIds.length > 0 ? lines.find((l) => l.id === r.lineIds[0])?.memberCustomerId : undefined
    const shares = owner ? members.map((m) => (m === owner ? r.discount : 0)) : allocate(r.discount, subtotals, payerIndex)
    shares.forEach((s, i) => (claimed[i]! += s))
  }
  const order = totals(lines, rewards, taxRateBps)
  // The order's (capped) discount, shared as the members claimed it, no member's above their own
  // subtotal (rewards worth more than a member's drinks: the rest goes to the others').
  const discounts = allocateWithin(order.discount, claimed, subtotals, payerIndex)
  const taxes = allocate(
    order.tax,
    subtotals.map((s, i) => s - discounts[i]!),
    payerIndex,
  )
  return members.map((m, i) => ({
    memberCustomerId: m,
    displayName: linesOf(m)[0]?.memberDisplayName ?? '',
    lineIds: linesOf(m).map((l) => l.id),
    itemCount: linesOf(m).reduce((s, l) => s + l.quantity, 0),
    subtotal: subtotals[i]!,
    discount: discounts[i]!,
    tax: taxes[i]!,
    total: subtotals[i]! - discounts[i]! + taxes[i]!,
  }))
}
