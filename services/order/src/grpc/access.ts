import type { Rule } from '@brewmesh/runtime/grpc'

/**
 * The menu is for every signed-in caller: a customer reads it about themselves (the route
 * authorizes the caller as the target), every staff role, and the mesh's services.
 */
const MENU: Rule = {
  self: true,
  staff: ['barista', 'support', 'operator'],
  services: ['customer', 'favorites', 'loyalty', 'order'],
}

/**
 * Who may call what on the Order Service (documented in the service README). self: the order's
 * customer (the payer); household: a member of the order's household.
 */
export const ACCESS = {
  PlaceOrder: { self: true, staff: ['barista', 'support', 'operator'] },
  PlaceGroupOrder: { self: true, staff: ['barista', 'support', 'operator'] },
  // loyalty: its reservation hold job asks whether an order it holds points for was stored.
  GetOrder: { self: true, household: true, staff: ['barista', 'support', 'operator'], services: ['loyalty'] },
  ListOrders: { self: true, household: true, staff: ['barista', 'support', 'operator'] },
  CancelOrder: { self: true, staff: ['barista', 'support', 'operator'] },
  AdvanceOrder: { staff: ['barista', 'operator'] },
  ListMenuItems: MENU,
  GetMenuItem: MENU,
  WatchOrder: { self: true, household: true, staff: ['barista', 'support', 'operator'] },
  BaristaSession: { staff: ['barista', 'operator'] },
} as const satisfies Record<string, Rule>

export type OrderRpc = keyof typeof ACCESS
