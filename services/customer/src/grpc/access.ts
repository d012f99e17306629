import type { Rule } from '@brewmesh/runtime/grpc'

/**
 * Who may call what on the Customer service (documented in the service README).
 * self: the customer the request is about; household: a member of that customer's household.
 * The "identity" service is the sign-up/sign-in gateway; "order" is the Order Service.
 */
export const ACCESS = {
  CreateCustomer: { staff: ['support', 'operator'], services: ['identity'] },
  GetCustomer: { self: true, household: true, staff: ['barista', 'support', 'operator'], services: ['order', 'loyalty', 'favorites'] },
  UpdateCustomer: { self: true, staff: ['support', 'operator'] },
  DeleteCustomer: { self: true, staff: ['support', 'operator'] },
  ListCustomers: { household: true, staff: ['support', 'operator'] },
  ActivateCustomer: { staff: ['support', 'operator'] },
  DeactivateCustomer: { staff: ['support', 'operator'] },
  RecordLogin: { self: true, services: ['identity'] },
  CreateAddress: { self: true, staff: ['support', 'operator'] },
  ListAddresses: { self: true, staff: ['support', 'operator'], services: ['order'] },
  UpdateAddress: { self: true, staff: ['support', 'operator'] },
  DeleteAddress: { self: true, staff: ['support', 'operator'] },
  WatchCustomer: { self: true, household: true, staff: ['support', 'operator'], services: ['order'] },
  ImportCustomers: { staff: ['operator'] },
  ActivityFeed: { self: true, household: true, staff: ['support', 'operator'] },
  GetCustomerStats: { self: true, household: true, staff: ['support', 'operator'] },
  WatchCustomerStats: { self: true, household: true, staff: ['support', 'operator'] },
} as const satisfies Record<string, Rule>

export type CustomerRpc = keyof typeof ACCESS
