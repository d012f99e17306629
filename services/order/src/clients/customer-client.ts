import { credentials, status as Code, type ChannelCredentials, type Interceptor } from '@grpc/grpc-js'
import { CustomerServiceClient, type GetCustomerResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { Customers } from '../domain/ports.ts'
import { call, channelOptions, deadlineFor, dependencyError, type Dependency } from './outbound.ts'

/** The Customer service through its generated client, with the Order Service's own identity. */
export function customerClient(
  dep: Dependency,
  auth: Interceptor,
  channel: ChannelCredentials = credentials.createInsecure(),
): Customers & { close(): void } {
  const client = new CustomerServiceClient(dep.target, channel, {
    ...channelOptions('brewmesh.customer.v1.CustomerService', ['GetCustomer']),
    interceptors: [auth],
  })
  return {
    async get(customerId, budget) {
      try {
        const r = await call<GetCustomerResponse>(
          (md, opts, cb) => client.getCustomer({ id: customerId }, md, opts, cb),
          deadlineFor(budget, dep.timeoutMs),
        )
        const c = r.customer
        return c && { id: c.id, displayName: c.displayName, householdId: c.householdId, active: c.active }
      } catch (err) {
        if ((err as { code?: number }).code === Code.NOT_FOUND) return undefined
        throw dependencyError('customer', err)
      }
    },
    close: () => client.close(),
  }
}
