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

/**
 * Like allocate, but no share exceeds its cap (amount ≤ Σ caps): what a capped share cannot take
 * is spread again over the shares with room left, the rounding remainder to the one with the most.
 */
export function allocateWithin(amount: number, weights: readonly number[], caps: readonly number[], remainderTo = 0): number[] {
  const shares = allocate(amount, weights, remainderTo).map((s, i) => Math.min(s, caps[i] ?? 0))
  for (let left = amount - sum(shares); left > 0; left = amount - sum(shares)) {
    const room = shares.map((s, i) => (caps[i] ?? 0) - s)
    if (sum(room) === 0) break // amount > Σ caps: nothing can take the rest
    const most = room.indexOf(Math.max(...room))
    allocate(Math.min(left, sum(room)), room, most).forEach((extra, i) => (shares[i] = Math.min(shares[i]! + extra, caps[i] ?? 0)))
  }
  return shares
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)
