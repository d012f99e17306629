import type { Account, Reward } from '../src/domain/model.ts'
import type { LoyaltyRules } from '../src/domain/rules.ts'

/** Domain objects for unit tests. */
export const RULES: LoyaltyRules = {
  pointsPerCurrencyUnit: 10,
  tiers: {
    silverLifetimePoints: 500,
    goldLifetimePoints: 2000,
    bronzeMultiplierPercent: 100,
    silverMultiplierPercent: 125,
    goldMultiplierPercent: 150,
  },
  expiryInactivityDays: 365,
  reservationHoldMinutes: 15,
}

export function account(overrides: Partial<Account> = {}): Account {
  const at = new Date('2026-01-01T00:00:00Z')
  return {
    customerId: 'c',
    status: 'open',
    balance: 0,
    reserved: 0,
    lifetime: 0,
    version: 1,
    lastActivityAt: null,
    openedAt: at,
    closedAt: null,
    updatedAt: at,
    ...overrides,
  }
}

export function reward(overrides: Partial<Reward> = {}): Reward {
  const at = new Date('2026-01-01T00:00:00Z')
  return {
    id: 'r1',
    name: 'Free drink',
    description: '',
    kind: 'free_drink',
    costPoints: 100,
    amountOff: null,
    percentOff: 0,
    maxDiscount: null,
    eligibleCategories: [],
    eligibleMenuItemIds: [],
    minSubtotal: null,
    minTier: null,
    active: true,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  }
}
