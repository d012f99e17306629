// Amounts are integer minor units (cents) of one currency: every rounding here is explicit.

/** round_half_up(amount * bps / 10000), exactly, in integers (amount >= 0). */
export const taxOf = (amountMinor: number, bps: number): number => Math.floor((amountMinor * bps + 5000) / 10_000)

/**
 * Splits `amount` across `weights` in proportion, exactly: each share rounded down, the remainder
 * to the share at `remainderTo`. All weights zero: everything to `remainderTo`.
 */
export function allocate(amount: number, weights: readonly number[], remainderTo = 0): number[] {
  const total = weights.reduce((a, b) => a + b, 0)
  if (total === 0) return weights.map((_, i) => (i === remainderTo ? amount : 0))
  const shares = weights.map((w) => Math.floor((amount * w) / total))
  shares[remainderTo] = (shares[remainderTo] ?? 0) + amount - shares.reduce((a, b) => a + b, 0)
  return shares
}
