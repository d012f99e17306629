import type { CustomerServiceService, ImportCustomersRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { messageViolations, type Routes } from '@brewmesh/runtime/grpc'
import { uuidOf } from '@brewmesh/runtime/ids'
import { createAddress, deleteAddress, listAddresses, updateAddress } from '../domain/addresses.ts'
import { customerStats } from '../domain/customer-stats.ts'
import { createCustomer, deleteCustomer, getCustomer, listCustomers, recordLogin, setActive, updateCustomer } from '../domain/customers.ts'
import { importCustomers, type ImportRow } from '../domain/import-customers.ts'
import type { CustomerDeps, StatsStore } from '../domain/ports.ts'
import type { Feed } from '../events/feed.ts'
import type { StatsFeed } from '../events/stats-feed.ts'
import { addressInputFromProto, addressToProto, customerToProto, importSummaryToProto, profileFromProto } from '../proto/customer-mapper.ts'
import { statsToProto } from '../proto/stats-mapper.ts'
import { ACCESS } from './access.ts'
import { activityFeed } from './activity-feed.ts'
import { authorizeOnAddress, authorizeOnCustomer } from './authorize.ts'
import { watchCustomer } from './watch-customer.ts'
import { watchCustomerStats } from './watch-customer-stats.ts'

/** The upload as the domain reads it: a row the contract's limits refused travels with its violations. */
async function* importRows(requests: AsyncIterable<ImportCustomersRequest>): AsyncIterable<ImportRow> {
  for await (const r of requests) yield { rowNumber: Number(r.rowNumber), profile: profileFromProto(r), refused: messageViolations(r) }
}

/**
 * CustomerService: one route per RPC (who may call it, whether it writes, the handler). Rules that
 * reach a household are judged against the stored customer ('handler'). Errors map in
 * runtime/grpc/status.ts.
 */
export function customerRoutes(
  deps: CustomerDeps,
  feed: Feed,
  stats: { store: StatsStore; feed: StatsFeed },
): Routes<typeof CustomerServiceService> {
  const loadStats = (customerId: string) =>
    customerStats(stats.store, customerId, async (id) => (await deps.store.customer(id)) !== undefined, deps.clock())
  return {
    createCustomer: {
      access: ACCESS.CreateCustomer,
      about: 'nobody',
      write: true,
      handle: async (r) => ({ customer: customerToProto(await createCustomer(deps, r.requestId, profileFromProto(r))) }),
    },
    getCustomer: {
      access: ACCESS.GetCustomer,
      about: 'handler',
      async handle(r, call) {
        const read = await authorizeOnCustomer(deps, call, r.id, 'id')
        return { customer: customerToProto(read ?? (await getCustomer(deps, r.id))) }
      },
    },
    updateCustomer: {
      access: ACCESS.UpdateCustomer,
      about: (r) => ({ customerId: r.customer?.id }),
      write: true,
      async handle(r) {
        const c = r.customer
        const updated = await updateCustomer(deps, c?.id ?? '', profileFromProto(c), r.updateMask ?? [], r.expectedVersion)
        return { customer: customerToProto(updated) }
      },
    },
    deleteCustomer: {
      access: ACCESS.DeleteCustomer,
      about: (r) => ({ customerId: r.id }),
      write: true,
      handle: async (r) => {
        await deleteCustomer(deps, r.id, r.expectedVersion)
        return {}
      },
    },
    listCustomers: {
      access: ACCESS.ListCustomers,
      // Customers may list their own household only.
      about: (r) => ({ householdId: r.householdId || undefined }),
      async handle(r) {
        const page = await listCustomers(deps, {
          pageSize: r.pageSize,
          pageToken: r.pageToken,
          householdId: r.householdId,
          active: r.active,
        })
        return { customers: page.customers.map(customerToProto), nextPageToken: page.nextPageToken }
      },
    },
    activateCustomer: {
      access: ACCESS.ActivateCustomer,
      about: 'nobody',
      write: true,
      handle: async (r) => ({ customer: customerToProto(await setActive(deps, r.id, true)) }),
    },
    deactivateCustomer: {
      access: ACCESS.DeactivateCustomer,
      about: 'nobody',
      write: true,
      handle: async (r) => ({ customer: customerToProto(await setActive(deps, r.id, false, r.reason)) }),
    },
    recordLogin: {
      access: ACCESS.RecordLogin,
      about: (r) => ({ customerId: r.id }),
      write: true,
      handle: async (r) => ({ customer: customerToProto(await recordLogin(deps, r.id)) }),
    },
    createAddress: {
      access: ACCESS.CreateAddress,
      about: (r) => ({ customerId: r.address?.customerId }),
      write: true,
      handle: async (r) => ({
        address: addressToProto(await createAddress(deps, r.address?.customerId ?? '', addressInputFromProto(r.address))),
      }),
    },
    listAddresses: {
      access: ACCESS.ListAddresses,
      about: (r) => ({ customerId: r.customerId }),
      handle: async (r) => ({ addresses: (await listAddresses(deps, r.customerId)).map(addressToProto) }),
    },
    updateAddress: {
      access: ACCESS.UpdateAddress,
      // The owner comes from the stored address.
      about: 'handler',
      write: true,
      async handle(r, call) {
        const id = r.address?.id ?? ''
        await authorizeOnAddress(deps, call, id, 'address.id')
        return { address: addressToProto(await updateAddress(deps, id, addressInputFromProto(r.address), r.updateMask ?? [])) }
      },
    },
    deleteAddress: {
      access: ACCESS.DeleteAddress,
      about: 'handler',
      write: true,
      async handle(r, call) {
        await authorizeOnAddress(deps, call, r.id, 'id')
        await deleteAddress(deps, r.id)
        return {}
      },
    },
    watchCustomer: {
      access: ACCESS.WatchCustomer,
      about: 'handler',
      async *handle(r, call) {
        await authorizeOnCustomer(deps, call, r.id, 'id')
        yield* watchCustomer(deps, feed, uuidOf(r.id, 'id'), call.signal)
      },
    },
    importCustomers: {
      access: ACCESS.ImportCustomers,
      about: 'nobody',
      write: true,
      // A row the contract's limits refuse (a NUL byte, an overlong name) is reported, and the others imported.
      invalidMessages: 'deliver',
      handle: async (requests) => importSummaryToProto(await importCustomers(deps, importRows(requests))),
    },
    activityFeed: {
      access: ACCESS.ActivityFeed,
      // Authorized per subscription: a customer may follow themselves, their household and its members.
      about: 'handler',
      handle: (requests, call) =>
        activityFeed(
          feed,
          requests,
          async (target) => {
            if ('customerId' in target) await authorizeOnCustomer(deps, call, target.customerId, 'subscribe.customer_id')
            else call.authorize({ householdId: target.householdId })
          },
          call.signal,
        ),
    },
    getCustomerStats: {
      access: ACCESS.GetCustomerStats,
      about: 'handler',
      async handle(r, call) {
        await authorizeOnCustomer(deps, call, r.customerId, 'customer_id')
        return { stats: statsToProto(await loadStats(r.customerId)) }
      },
    },
    watchCustomerStats: {
      access: ACCESS.WatchCustomerStats,
      about: 'handler',
      async *handle(r, call) {
        await authorizeOnCustomer(deps, call, r.customerId, 'customer_id')
        const customerId = uuidOf(r.customerId, 'customer_id')
        yield* watchCustomerStats(stats.feed.updates, customerId, () => loadStats(customerId), call.signal)
      },
    },
  }
}
