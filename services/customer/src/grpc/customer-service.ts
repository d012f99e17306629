import { status as Code } from '@grpc/grpc-js'
import type { CustomerServiceServer, ImportCustomersRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { CallAdapters } from '@brewmesh/runtime/grpc/calls.ts'
import { createAddress, deleteAddress, listAddresses, updateAddress } from '../domain/addresses.ts'
import { createCustomer, deleteCustomer, getCustomer, listCustomers, recordLogin, setActive, updateCustomer } from '../domain/customers.ts'
import { importCustomers, type ImportRow } from '../domain/import-customers.ts'
import type { CustomerDeps } from '../domain/ports.ts'
import type { ActivityBus } from '../events/activity-bus.ts'
import { addressInputFromProto, addressToProto, customerToProto, profileFromProto } from '../proto/customer-mapper.ts'
import { activityFeed } from './activity-feed.ts'
import { watchCustomer } from './watch-customer.ts'

async function* importRows(requests: AsyncIterable<ImportCustomersRequest>): AsyncIterable<ImportRow> {
  for await (const r of requests) yield { rowNumber: Number(r.rowNumber), profile: profileFromProto(r) }
}

const EMPTY_PROFILE = {
  username: '',
  displayName: '',
  firstName: '',
  lastName: '',
  email: '',
  phone: '',
  preferences: undefined,
  dietaryRestrictions: [],
  householdId: '',
}

/** CustomerService handlers: decode, call the use case, encode. Errors map in runtime/grpc/status.ts. */
export function customerService(deps: CustomerDeps, bus: ActivityBus, calls: CallAdapters): CustomerServiceServer {
  const { unary } = calls
  return {
    createCustomer: unary('CreateCustomer', async (r) => ({
      customer: customerToProto(await createCustomer(deps, r.requestId, profileFromProto(r))),
    })),
    getCustomer: unary('GetCustomer', async (r) => ({ customer: customerToProto(await getCustomer(deps, r.id)) })),
    updateCustomer: unary('UpdateCustomer', async (r) => {
      const c = r.customer
      const profile = c ? profileFromProto({ ...c, phone: c.phone }) : EMPTY_PROFILE
      const updated = await updateCustomer(deps, c?.id ?? '', profile, r.updateMask ?? [], r.expectedVersion)
      return { customer: customerToProto(updated) }
    }),
    deleteCustomer: unary('DeleteCustomer', async (r) => {
      await deleteCustomer(deps, r.id, r.expectedVersion)
      return {}
    }),
    listCustomers: unary('ListCustomers', async (r) => {
      const page = await listCustomers(deps, { pageSize: r.pageSize, pageToken: r.pageToken, householdId: r.householdId, active: r.active })
      return { customers: page.customers.map(customerToProto), nextPageToken: page.nextPageToken }
    }),
    activateCustomer: unary('ActivateCustomer', async (r) => ({ customer: customerToProto(await setActive(deps, r.id, true)) })),
    deactivateCustomer: unary('DeactivateCustomer', async (r) => ({
      customer: customerToProto(await setActive(deps, r.id, false, r.reason)),
    })),
    recordLogin: unary('RecordLogin', async (r) => ({ customer: customerToProto(await recordLogin(deps, r.id)) })),
    createAddress: unary('CreateAddress', async (r) => ({
      address: addressToProto(await createAddress(deps, r.address?.customerId ?? '', addressInputFromProto(r.address))),
    })),
    listAddresses: unary('ListAddresses', async (r) => ({ addresses: (await listAddresses(deps, r.customerId)).map(addressToProto) })),
    updateAddress: unary('UpdateAddress', async (r) => ({
      address: addressToProto(await updateAddress(deps, r.address?.id ?? '', addressInputFromProto(r.address), r.updateMask ?? [])),
    })),
    deleteAddress: unary('DeleteAddress', async (r) => {
      await deleteAddress(deps, r.id)
      return {}
    }),
    watchCustomer: calls.serverStream('WatchCustomer', watchCustomer(deps, bus)),
    importCustomers: calls.clientStream('ImportCustomers', async (requests) => {
      const summary = await importCustomers(deps, importRows(requests))
      return {
        received: String(summary.received),
        created: String(summary.created),
        updated: String(summary.updated),
        unchanged: String(summary.unchanged),
        failed: String(summary.failed),
        failures: summary.failures.map((f) => ({ rowNumber: String(f.rowNumber), reason: f.reason, fields: f.fields })),
      }
    }),
    activityFeed: calls.bidi('ActivityFeed', activityFeed(bus)),
    // Customer statistics are computed by the order-event rollups (issue 6); until then the
    // contract is published and the calls say so plainly.
    getCustomerStats: (_call, callback) => callback({ code: Code.UNIMPLEMENTED, details: 'customer statistics are not available yet' }),
    watchCustomerStats: (call) => call.emit('error', { code: Code.UNIMPLEMENTED, details: 'customer statistics are not available yet' }),
  }
}
