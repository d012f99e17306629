import { credentials, type ChannelCredentials, type Interceptor } from '@grpc/grpc-js'
import { CustomerServiceClient, type GetCustomerResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { Customers } from '../domain/ports.ts'
import { channelOptions, outboundCalls, type Dependency } from './outbound.ts'

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
  const customers = outboundCalls('customer', dep)
  return {
    async get(customerId, budget) {
      const r = await customers.find<GetCustomerResponse>((md, opts, cb) => client.getCustomer({ id: customerId }, md, opts, cb), budget)
      const c = r?.customer
      return c && { id: c.id, displayName: c.displayName, householdId: c.householdId, active: c.active }
    },
    close: () => client.close(),
  }
}
