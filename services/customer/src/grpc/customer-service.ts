import type { CustomerServiceServer, ImportCustomersRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { authorize, type Target } from '@brewmesh/runtime/auth/access.ts'
import { AppError, permissionDenied } from '@brewmesh/runtime/errors.ts'
import { callerOf, type CallAdapters, type CallContext } from '@brewmesh/runtime/grpc/calls.ts'
import type { RateLimiter } from '@brewmesh/runtime/rate-limit.ts'
import { addressOwner, createAddress, deleteAddress, listAddresses, updateAddress } from '../domain/addresses.ts'
import { createCustomer, deleteCustomer, getCustomer, listCustomers, recordLogin, setActive, updateCustomer } from '../domain/customers.ts'
import { importCustomers, type ImportRow } from '../domain/import-customers.ts'
import type { Customer } from '../domain/customer.ts'
import type { CustomerDeps, StatsStore } from '../domain/ports.ts'
import { customerStats } from '../domain/customer-stats.ts'
import type { StatsFeed } from '../events/stats-feed.ts'
import { statsToProto } from '../proto/stats-mapper.ts'
import { watchCustomerStats } from './watch-customer-stats.ts'
import { isUuid, uuidOf } from '@brewmesh/runtime/ids'
import type { ActivityBus } from '../events/activity-bus.ts'
import { addressInputFromProto, addressToProto, customerToProto, profileFromProto } from '../proto/customer-mapper.ts'
import { ACCESS, type CustomerRpc } from './access.ts'
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

/** CustomerService handlers: authorize, decode, call the use case, encode. Errors map in runtime/grpc/status.ts. */
export function customerService(
  deps: CustomerDeps,
  bus: ActivityBus,
  calls: CallAdapters,
  limitWrites: RateLimiter,
  stats: { store: StatsStore; feed: StatsFeed },
): CustomerServiceServer {
  const { unary } = calls
  const loadStats = (customerId: string) =>
    customerStats(stats.store, customerId, async (id) => (await deps.store.customer(id)) !== undefined, deps.clock())
  const allow = (ctx: CallContext, rpc: CustomerRpc, target?: Target) => authorize(callerOf(ctx), ACCESS[rpc], target, rpc)
  /** Authorizes a write, then counts it against the caller's rate limit. */
  const allowWrite = async (ctx: CallContext, rpc: CustomerRpc, target?: Target) => {
    allow(ctx, rpc, target)
    await limitWrites(callerOf(ctx))
  }

  /**
   * For rules reaching a customer's household, the target is the stored customer (its household).
   * Returns that customer when it had to be read, so the handler does not read it again.
   */
  const allowOnCustomer = async (ctx: CallContext, rpc: CustomerRpc, id: string, field = 'id'): Promise<Customer | undefined> => {
    const caller = callerOf(ctx)
    const rule = ACCESS[rpc]
    if (caller.kind !== 'customer' || !('household' in rule) || !rule.household || (isUuid(id) && id.toLowerCase() === caller.subject)) {
      authorize(caller, rule, { customerId: id }, rpc)
      return undefined
    }
    uuidOf(id, field)
    // Another customer's id that does not exist is refused like one that does: a customer token
    // must not learn which ids exist outside its household.
    const customer = await getCustomer(deps, id).catch((err: unknown) => {
      if (err instanceof AppError && err.kind === 'not_found') throw permissionDenied(`customer ${caller.subject} may not make ${rpc}`)
      throw err
    })
    authorize(caller, rule, { customerId: customer.id, householdId: customer.householdId ?? undefined }, rpc)
    return customer
  }

  return {
    createCustomer: unary('CreateCustomer', async (r, ctx) => {
      await allowWrite(ctx, 'CreateCustomer')
      return { customer: customerToProto(await createCustomer(deps, r.requestId, profileFromProto(r))) }
    }),
    getCustomer: unary('GetCustomer', async (r, ctx) => {
      const checked = await allowOnCustomer(ctx, 'GetCustomer', r.id)
      return { customer: customerToProto(checked ?? (await getCustomer(deps, r.id))) }
    }),
    updateCustomer: unary('UpdateCustomer', async (r, ctx) => {
      const c = r.customer
      await allowWrite(ctx, 'UpdateCustomer', { customerId: c?.id })
      const profile = c ? profileFromProto({ ...c, phone: c.phone }) : EMPTY_PROFILE
      const updated = await updateCustomer(deps, c?.id ?? '', profile, r.updateMask ?? [], r.expectedVersion)
      return { customer: customerToProto(updated) }
    }),
    deleteCustomer: unary('DeleteCustomer', async (r, ctx) => {
      await allowWrite(ctx, 'DeleteCustomer', { customerId: r.id })
      await deleteCustomer(deps, r.id, r.expectedVersion)
      return {}
    }),
    listCustomers: unary('ListCustomers', async (r, ctx) => {
      // Customers may list their own household only.
      allow(ctx, 'ListCustomers', { householdId: r.householdId || undefined })
      const page = await listCustomers(deps, { pageSize: r.pageSize, pageToken: r.pageToken, householdId: r.householdId, active: r.active })
      return { customers: page.customers.map(customerToProto), nextPageToken: page.nextPageToken }
    }),
    activateCustomer: unary('ActivateCustomer', async (r, ctx) => {
      await allowWrite(ctx, 'ActivateCustomer')
      return { customer: customerToProto(await setActive(deps, r.id, true)) }
    }),
    deactivateCustomer: unary('DeactivateCustomer', async (r, ctx) => {
      await allowWrite(ctx, 'DeactivateCustomer')
      return { customer: customerToProto(await setActive(deps, r.id, false, r.reason)) }
    }),
    recordLogin: unary('RecordLogin', async (r, ctx) => {
      await allowWrite(ctx, 'RecordLogin', { customerId: r.id })
      return { customer: customerToProto(await recordLogin(deps, r.id)) }
    }),
    createAddress: unary('CreateAddress', async (r, ctx) => {
      const customerId = r.address?.customerId ?? ''
      await allowWrite(ctx, 'CreateAddress', { customerId })
      return { address: addressToProto(await createAddress(deps, customerId, addressInputFromProto(r.address))) }
    }),
    listAddresses: unary('ListAddresses', async (r, ctx) => {
      allow(ctx, 'ListAddresses', { customerId: r.customerId })
      return { addresses: (await listAddresses(deps, r.customerId)).map(addressToProto) }
    }),
    updateAddress: unary('UpdateAddress', async (r, ctx) => {
      const id = r.address?.id ?? ''
      await allowWrite(ctx, 'UpdateAddress', { customerId: callerOf(ctx).kind === 'customer' ? await addressOwner(deps, id) : undefined })
      return { address: addressToProto(await updateAddress(deps, id, addressInputFromProto(r.address), r.updateMask ?? [])) }
    }),
    deleteAddress: unary('DeleteAddress', async (r, ctx) => {
      await allowWrite(ctx, 'DeleteAddress', {
        customerId: callerOf(ctx).kind === 'customer' ? await addressOwner(deps, r.id, 'id') : undefined,
      })
      await deleteAddress(deps, r.id)
      return {}
    }),
    watchCustomer: calls.serverStream('WatchCustomer', async (r, send, ctx) => {
      await allowOnCustomer(ctx, 'WatchCustomer', r.id)
      await watchCustomer(deps, bus)(r, send, ctx)
    }),
    importCustomers: calls.clientStream('ImportCustomers', async (requests, ctx) => {
      await allowWrite(ctx, 'ImportCustomers')
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
    activityFeed: calls.bidi('ActivityFeed', (requests, send, ctx) => {
      // Authorized per subscription: a customer may follow themselves, their household and its members.
      const authorizeSubscription = async (target: { customerId: string } | { householdId: string }) => {
        if ('customerId' in target) await allowOnCustomer(ctx, 'ActivityFeed', target.customerId, 'subscribe.customer_id')
        else allow(ctx, 'ActivityFeed', { householdId: target.householdId })
      }
      return activityFeed(bus, authorizeSubscription)(requests, send, ctx)
    }),
    getCustomerStats: unary('GetCustomerStats', async (r, ctx) => {
      await allowOnCustomer(ctx, 'GetCustomerStats', r.customerId, 'customer_id')
      return { stats: statsToProto(await loadStats(r.customerId)) }
    }),
    watchCustomerStats: calls.serverStream('WatchCustomerStats', async (r, send, ctx) => {
      await allowOnCustomer(ctx, 'WatchCustomerStats', r.customerId, 'customer_id')
      await watchCustomerStats(stats.feed, r.customerId.toLowerCase(), () => loadStats(r.customerId), send, ctx)
    }),
  }
}
