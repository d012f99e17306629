import { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { CallBudget, CustomerFact } from '../domain/ports.ts'
import type { Outbound } from '@brewmesh/runtime/auth'
import { connect, type Dependency } from './dependency.ts'

/** The Customer service, asked over gRPC. */
export interface CustomerService {
  /** The customer as the Customer service answers now; undefined when there is no such customer. */
  get(customerId: string, budget: CallBudget): Promise<CustomerFact | undefined>
  close(): void
}

/** The Customer service through its promise client, with the Order Service's own identity. */
export function customerClient(dep: Dependency, outbound: Outbound): CustomerService {
  const { client, calls } = connect('customer', CustomerServiceService, dep, outbound, ['getCustomer'])
  return {
    async get(customerId, budget) {
      const r = await calls.find((options) => client.getCustomer({ id: customerId }, options), budget)
      const c = r?.customer
      return (
        c && {
          id: c.id.toLowerCase(),
          displayName: c.displayName,
          householdId: c.householdId.toLowerCase(),
          active: c.active,
          version: c.version,
          deleted: false,
        }
      )
    },
    close: () => client.close(),
  }
}
