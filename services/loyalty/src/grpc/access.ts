import type { Rule } from '@brewmesh/runtime/grpc'

/**
 * Who may call what on the Loyalty service (documented in the service README).
 * self: the customer the request is about (a customer token whose subject is its customer_id).
 * "order" is the Order Service, which quotes, redeems and runs checkout sessions while placing orders.
 */
export const ACCESS = {
  GetAccount: { self: true, staff: ['barista', 'support', 'operator'], services: ['order'] },
  ListTransactions: { self: true, staff: ['support', 'operator'] },
  // Without customer_id the catalog is open to every authenticated caller (see loyalty-service.ts).
  ListRewards: { self: true, staff: ['barista', 'support', 'operator'], services: ['order'] },
  QuoteRewards: { self: true, staff: ['support', 'operator'], services: ['order'] },
  RedeemReward: { services: ['order'] },
  ReleaseRedemptions: { services: ['order'], staff: ['operator'] },
  AdjustPoints: { staff: ['support', 'operator'] },
  WatchAccount: { self: true, staff: ['support', 'operator'], services: ['order'] },
  AdjustPointsBatch: { staff: ['operator'] },
  CheckoutSession: { services: ['order'] },
} as const satisfies Record<string, Rule>

export type LoyaltyRpc = keyof typeof ACCESS
