import { MAX_AMOUNT, type Account, type Reward, type Tier } from './model.ts'

/** The configurable points rules (documented in the service README). */
export interface LoyaltyRules {
  /** Points per whole currency unit (100 minor units) of a completed order's total, before the tier multiplier. */
  pointsPerCurrencyUnit: number
  tiers: {
    silverLifetimePoints: number
    goldLifetimePoints: number
    bronzeMultiplierPercent: number
    silverMultiplierPercent: number
    goldMultiplierPercent: number
  }
  expiryInactivityDays: number
  /** RESERVED redemptions whose order never shows up are released after this many minutes. */
  reservationHoldMinutes: number
}

const RANK: Record<Tier, number> = { bronze: 1, silver: 2, gold: 3 }

export const tierRank = (tier: Tier) => RANK[tier]

/** The tier lifetime points give: Bronze below the Silver threshold, Gold from the Gold one. */
export function tierFor(rules: LoyaltyRules, lifetime: number): Tier {
  if (lifetime >= rules.tiers.goldLifetimePoints) return 'gold'
  if (lifetime >= rules.tiers.silverLifetimePoints) return 'silver'
  return 'bronze'
}

/** The tier above and the lifetime points still missing for it (undefined at Gold). */
export function nextTier(rules: LoyaltyRules, lifetime: number): { tier: Tier; pointsNeeded: number } | undefined {
  const tier = tierFor(rules, lifetime)
  if (tier === 'bronze') return { tier: 'silver', pointsNeeded: rules.tiers.silverLifetimePoints - lifetime }
  if (tier === 'silver') return { tier: 'gold', pointsNeeded: rules.tiers.goldLifetimePoints - lifetime }
  return undefined
}

export function multiplierPercent(rules: LoyaltyRules, tier: Tier): number {
  const t = rules.tiers
  return tier === 'gold' ? t.goldMultiplierPercent : tier === 'silver' ? t.silverMultiplierPercent : t.bronzeMultiplierPercent
}

/**
 * Points for an order amount: whole currency units x points per unit x the tier multiplier,
 * rounded down, at most MAX_AMOUNT. Computed exactly (the product passes 2^53 long before the
 * points do). Zero for a zero or negative amount.
 */
export function pointsForAmount(rules: LoyaltyRules, amountMinor: number, tier: Tier): number {
  if (amountMinor <= 0) return 0
  const points = (BigInt(amountMinor) * BigInt(rules.pointsPerCurrencyUnit) * BigInt(multiplierPercent(rules, tier))) / 10_000n
  return points > BigInt(MAX_AMOUNT) ? MAX_AMOUNT : Number(points)
}

/** When the balance expires if nothing happens (unset for a zero balance or no activity yet). */
export function pointsExpireAt(rules: LoyaltyRules, account: Account): Date | null {
  if (account.balance <= 0 || !account.lastActivityAt) return null
  return new Date(account.lastActivityAt.getTime() + rules.expiryInactivityDays * 86_400_000)
}

/** Whether the account can redeem the reward now, ignoring cart rules. */
export function canAfford(rules: LoyaltyRules, account: Account, reward: Reward): boolean {
  return (
    account.status === 'open' &&
    reward.active &&
    reward.costPoints <= account.balance &&
    (!reward.minTier || tierRank(tierFor(rules, account.lifetime)) >= tierRank(reward.minTier))
  )
}

/** Rewards the account can afford after a change that it could not afford before (cheapest first). */
export function newlyAffordable(rules: LoyaltyRules, before: Account, after: Account, rewards: readonly Reward[]): Reward[] {
  return rewards.filter((r) => canAfford(rules, after, r) && !canAfford(rules, before, r)).sort((a, b) => a.costPoints - b.costPoints)
}
