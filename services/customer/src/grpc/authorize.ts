import { AppError } from '@brewmesh/runtime/errors'
import type { Call } from '@brewmesh/runtime/grpc'
import { isUuid, uuidOf } from '@brewmesh/runtime/ids'
import { addressOwner } from '../domain/addresses.ts'
import type { Customer } from '../domain/customer.ts'
import { getCustomer } from '../domain/customers.ts'
import type { CustomerDeps } from '../domain/ports.ts'

/**
 * Authorizes a call about one customer under a rule that reaches the customer's household: the
 * household is the stored customer's, so for a customer caller asking about someone else the
 * customer is read first (and returned, so the handler need not read it again). Staff and
 * services were judged by role before the handler.
 */
export async function authorizeOnCustomer(deps: CustomerDeps, call: Call, id: string, field: string): Promise<Customer | undefined> {
  const caller = call.caller
  if (caller.kind !== 'customer' || (isUuid(id) && id.toLowerCase() === caller.subject)) {
    call.authorize({ customerId: id })
    return undefined
  }
  const customerId = uuidOf(id, field)
  const customer = await getCustomer(deps, customerId).catch((err: unknown) => {
    if (err instanceof AppError && err.kind === 'not_found') return undefined
    throw err
  })
  // An id that does not exist is refused like another household's: a customer token must not learn
  // which ids exist outside its household.
  call.authorize({ customerId, householdId: customer?.householdId ?? undefined })
  return customer
}

/** Authorizes a change of an address: a customer caller must own it (staff were judged by role). */
export async function authorizeOnAddress(deps: CustomerDeps, call: Call, addressId: string, field: string): Promise<void> {
  if (call.caller.kind === 'customer') call.authorize({ customerId: await addressOwner(deps, addressId, field) })
}
