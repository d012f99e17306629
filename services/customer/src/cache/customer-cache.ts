import { Customer as CustomerMessage } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import type { ByteCache } from '@brewmesh/runtime/cache'
import type { Customer } from '../domain/customer.ts'
import type { CustomerCache } from '../domain/ports.ts'
import { customerFromProto, customerToProto } from '../proto/customer-mapper.ts'

/** Customers in Valkey under `customer:{id}` (after the deployment's key prefix, app.ts), protobuf-encoded (the same bytes the wire uses). */
export function customerCache(cache: ByteCache): CustomerCache {
  const key = (id: string) => `customer:${id}`
  return {
    async get(id) {
      const bytes = await cache.get(key(id))
      return bytes ? customerFromProto(CustomerMessage.decode(bytes)) : undefined
    },
    async set(customer: Customer) {
      await cache.set(key(customer.id), Buffer.from(CustomerMessage.encode(customerToProto(customer)).finish()))
    },
    async delete(id) {
      await cache.delete(key(id))
    },
  }
}
