import { notFound, Violations } from '@brewmesh/runtime/errors'
import { checkUuid, uuidOf } from '@brewmesh/runtime/ids'
import { ADDRESS_FIELDS, type Address, type AddressField, type AddressInput } from './customer.ts'
import { addressChanges } from './field-changes.ts'
import type { CustomerDeps } from './ports.ts'
import { addressViolations, normalizeAddress } from './validation.ts'

const MAX_ADDRESSES = 20

/** Address changes bump the owner's version too, so watchers and caches see one ordered history. */
export async function createAddress(deps: CustomerDeps, rawCustomerId: string, raw: AddressInput): Promise<Address> {
  const input = normalizeAddress(raw)
  const v = addressViolations(input)
  checkUuid(v, rawCustomerId, 'address.customer_id')
  v.throwIfAny()
  const customerId = rawCustomerId.toLowerCase()
  const address = await deps.store.transaction(async (tx) => {
    const owner = await tx.customer(customerId, 'for_update')
    if (!owner) throw notFound('customer', customerId)
    const existing = await deps.store.addresses(customerId)
    new Violations().check(existing.length < MAX_ADDRESSES, 'address', `a customer has at most ${MAX_ADDRESSES} addresses`).throwIfAny()
    const now = deps.clock()
    const created: Address = { id: deps.newId(), customerId, ...input, createdAt: now, updatedAt: now }
    await tx.insertAddress(created)
    const customer = { ...owner, version: owner.version + 1, updatedAt: now }
    await tx.updateCustomer(customer)
    await tx.record({ kind: 'address_added', customer, address: created })
    return created
  })
  await deps.cache.delete(customerId)
  return address
}

export async function listAddresses(deps: CustomerDeps, rawCustomerId: string): Promise<Address[]> {
  const customerId = uuidOf(rawCustomerId, 'customer_id')
  const owner = await deps.store.customer(customerId)
  if (!owner) throw notFound('customer', customerId)
  return deps.store.addresses(customerId)
}

export async function updateAddress(deps: CustomerDeps, rawId: string, raw: AddressInput, maskPaths: string[]): Promise<Address> {
  const id = uuidOf(rawId, 'address.id')
  const v = new Violations()
  if (maskPaths.length === 0) v.add('update_mask', 'name at least one field to update')
  const fields = maskPaths.map((p) => p.replace(/^address\./, ''))
  fields.forEach((f, i) => {
    // Named by position, never repeated: a caller's text does not go back into an error.
    if (!(ADDRESS_FIELDS as readonly string[]).includes(f))
      v.add('update_mask', `paths[${i}] cannot be updated; allowed: ${ADDRESS_FIELDS.join(', ')}`)
  })
  v.throwIfAny()
  const input = normalizeAddress(raw)
  addressViolations(input, new Set(fields)).throwIfAny()
  const result = await deps.store.transaction(async (tx) => {
    const current = await tx.address(id, 'for_update')
    if (!current) throw notFound('address', id)
    const next: Address = { ...current }
    for (const f of fields as AddressField[]) Object.assign(next, addressPatch(input, f))
    const changes = addressChanges(current, next, fields as AddressField[])
    if (changes.length === 0) return current
    const owner = await tx.customer(current.customerId, 'for_update')
    if (!owner) throw notFound('customer', current.customerId)
    const now = deps.clock()
    const updated = { ...next, updatedAt: now }
    await tx.updateAddress(updated)
    const customer = { ...owner, version: owner.version + 1, updatedAt: now }
    await tx.updateCustomer(customer)
    await tx.record({ kind: 'address_updated', customer, address: updated, changes })
    return updated
  })
  await deps.cache.delete(result.customerId)
  return result
}

function addressPatch(a: AddressInput, field: AddressField): Partial<Address> {
  switch (field) {
    case 'street':
      return { street: a.street }
    case 'city':
      return { city: a.city }
    case 'state_province':
      return { stateProvince: a.stateProvince }
    case 'postal_code':
      return { postalCode: a.postalCode }
    case 'country_code':
      return { countryCode: a.countryCode }
    case 'label':
      return { label: a.label }
  }
}

export async function deleteAddress(deps: CustomerDeps, rawId: string): Promise<void> {
  const id = uuidOf(rawId, 'id')
  const customerId = await deps.store.transaction(async (tx) => {
    const current = await tx.address(id, 'for_update')
    if (!current) throw notFound('address', id)
    const owner = await tx.customer(current.customerId, 'for_update')
    if (!owner) throw notFound('customer', current.customerId)
    await tx.deleteAddress(id)
    const customer = { ...owner, version: owner.version + 1, updatedAt: deps.clock() }
    await tx.updateCustomer(customer)
    await tx.record({ kind: 'address_removed', customer, address: current })
    return current.customerId
  })
  await deps.cache.delete(customerId)
}

/** The customer an address belongs to (for authorization before a change). */
export async function addressOwner(deps: CustomerDeps, rawId: string, field = 'address.id'): Promise<string> {
  const id = uuidOf(rawId, field)
  const address = await deps.store.transaction((tx) => tx.address(id))
  if (!address) throw notFound('address', id)
  return address.customerId
}
