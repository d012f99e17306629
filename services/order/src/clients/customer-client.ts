import { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { Customers } from '../domain/ports.ts'
import type { Outbound } from '@brewmesh/runtime/auth'
import { connect, type Dependency } from './dependency.ts'

/** The Customer service through its promise client, with the Order Service's own identity. */
export function customerClient(dep: Dependency, outbound: Outbound): Customers & { close(): void } {
  const { client, calls } = connect('customer', CustomerServiceService, dep, outbound, ['getCustomer'])
  return {
    async get(customerId, budget) {
      const r = await calls.find((options) => client.getCustomer({ id: customerId }, options), budget)
      const c = r?.customer
      return c && { id: c.id, displayName: c.displayName, householdId: c.householdId, active: c.active }
    },
    close: () => client.close(),
  }
}
