import type { TokenClaims } from './tokens.ts'

/** The callers tests act as: one of each role the access tables name, and customers by id. */
export const PRINCIPALS = {
  /** Support and operator: allowed everything staff may do. */
  staff: { sub: 'staff-test', roles: ['support', 'operator'] },
  barista: { sub: 'barista-test', roles: ['barista'] },
  support: { sub: 'support-test', roles: ['support'] },
  operator: { sub: 'operator-test', roles: ['operator'] },
  orderService: { sub: 'order', roles: ['service'] },
  loyaltyService: { sub: 'loyalty', roles: ['service'] },
  identityService: { sub: 'identity', roles: ['service'] },
  /** A service no access rule names. */
  otherService: { sub: 'unknown-service', roles: ['service'] },
} as const satisfies Record<string, TokenClaims>

/** A customer token: subject = customer id, optionally in a household. */
export const customer = (id: string, householdId?: string): TokenClaims => ({
  sub: id,
  roles: ['customer'],
  ...(householdId ? { household_id: householdId } : {}),
})
