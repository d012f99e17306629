import type { Money } from '@brewmesh/gen/brewmesh/common/v1/money.ts'

/** Money in integer minor units; the contract's int64 is a decimal string on the wire. */
export const minor = (m: Money | undefined): number => Number(m?.amountMinor ?? 0)
export const money = (amountMinor: number, currencyCode: string): Money => ({ amountMinor: String(amountMinor), currencyCode })

/** round_half_up((amount) * bps / 10000), exactly, in integers. */
export const taxOf = (amountMinor: number, bps: number): number => Math.floor((amountMinor * bps + 5000) / 10_000)

/**
 * Splits `amount` across `weights` in proportion, exactly: each share rounded down, the remainder
 * to the share at `remainderTo`.
 */
export function allocate(amount: number, weights: readonly number[], remainderTo = 0): number[] {
  const total = weights.reduce((a, b) => a + b, 0)
  if (total === 0) return weights.map((_, i) => (i === remainderTo ? amount : 0))
  const shares = weights.map((w) => Math.floor((amount * w) / total))
  shares[remainderTo] = (shares[remainderTo] ?? 0) + amount - shares.reduce((a, b) => a + b, 0)
  return shares
}
