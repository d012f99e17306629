import type { Rule } from '@brewmesh/runtime/auth/access.ts'

/**
 * Who may call what on the Order Service (documented in the service README). self: the order's
 * customer (the payer); household: a member of the order's household. The menu is open to any
 * authenticated caller.
 */
export const ACCESS = {
  PlaceOrder: { self: true, staff: ['barista', 'support', 'operator'] },
  PlaceGroupOrder: { self: true, staff: ['barista', 'support', 'operator'] },
  GetOrder: { self: true, household: true, staff: ['barista', 'support', 'operator'] },
  ListOrders: { self: true, household: true, staff: ['barista', 'support', 'operator'] },
  CancelOrder: { self: true, staff: ['barista', 'support', 'operator'] },
  AdvanceOrder: { staff: ['barista', 'operator'] },
  WatchOrder: { self: true, household: true, staff: ['barista', 'support', 'operator'] },
  BaristaSession: { staff: ['barista', 'operator'] },
} as const satisfies Record<string, Rule>

export type OrderRpc = keyof typeof ACCESS
