import { createHash } from 'node:crypto'
import { AppError, invalid, notFound, Violations } from '@brewmesh/runtime/errors'
import { checkUuid, isUuid, uuidOf } from '@brewmesh/runtime/ids'
import { pageTokens, positionOf } from '@brewmesh/runtime/paging'
import { UPDATABLE_FIELDS, type Customer, type ProfileInput, type UpdatableField } from './customer.ts'
import { customerChanges } from './field-changes.ts'
import type { CustomerDeps, CustomerPage, CustomerQuery, CustomerTx } from './ports.ts'
import { normalizeProfile, profileViolations } from './validation.ts'

/** Builds a new customer from a normalized, valid profile. */
export function newCustomer(input: ProfileInput, id: string, now: Date): Customer {
  return {
    id,
    ...profileFields(input),
    active: true,
    registeredAt: now,
    lastLoginAt: null,
    version: 1,
    updatedAt: now,
  }
}

function profileFields(p: ProfileInput) {
  return {
    username: p.username,
    displayName: p.displayName,
    firstName: p.firstName,
    lastName: p.lastName,
    email: p.email,
    phone: p.phone || null,
    preferences: p.preferences ?? { defaultCustomization: undefined, likes: [], decafOnly: false },
    dietaryRestrictions: p.dietaryRestrictions,
    householdId: p.householdId || null,
  }
}

const requestHash = (input: ProfileInput) => createHash('sha256').update(JSON.stringify(input)).digest('hex')

export async function createCustomer(deps: CustomerDeps, requestId: string, raw: ProfileInput): Promise<Customer> {
  const input = normalizeProfile(raw)
  const v = profileViolations(input, deps.enums)
  v.check(requestId.length <= 128, 'request_id', 'must have at most 128 characters')
  v.throwIfAny()
  const hash = requestHash(input)
  const id = deps.newId()
  return deps.store.transaction(async (tx) => {
    if (requestId) {
      const earlier = await tx.claimRequest(requestId, hash, id)
      if (earlier) {
        if (earlier.requestHash !== hash) {
          throw invalid([{ field: 'request_id', description: 'was already used for a different request' }])
        }
        const existing = await tx.customer(earlier.customerId)
        if (!existing) throw notFound('customer', earlier.customerId)
        return existing
      }
    }
    const customer = newCustomer(input, id, deps.clock())
    await tx.insertCustomer(customer)
    await tx.record({ kind: 'created', customer })
    return customer
  })
}

export async function getCustomer(deps: CustomerDeps, rawId: string): Promise<Customer> {
  const id = uuidOf(rawId, 'id')
  const cached = await deps.cache.get(id)
  if (cached) return cached
  const customer = await deps.store.customer(id)
  if (!customer) throw notFound('customer', id)
  await deps.cache.set(customer)
  return customer
}

/** The google.rpc.ErrorInfo reason of an ABORTED for a stale expected_version (the client re-reads, then retries). */
export const VERSION_MISMATCH = 'VERSION_MISMATCH'

/** Loads a customer for change, checking the caller's expected version (0: any). */
async function lockedCustomer(tx: CustomerTx, id: string, expectedVersion: number) {
  const current = await tx.customer(id, 'for_update')
  if (!current) throw notFound('customer', id)
  if (expectedVersion > 0 && current.version !== expectedVersion) {
    throw new AppError('aborted', `customer ${id} is at version ${current.version}, not ${expectedVersion}: re-read and retry`, [], {
      reason: VERSION_MISMATCH,
    })
  }
  return current
}

/** Runs a change and drops the cached copy after commit (consumers drop it again on every replica). */
async function changing<T extends { id: string }>(deps: CustomerDeps, work: () => Promise<T>): Promise<T> {
  const result = await work()
  await deps.cache.delete(result.id)
  return result
}

export async function updateCustomer(
  deps: CustomerDeps,
  rawId: string,
  raw: ProfileInput,
  maskPaths: string[],
  expectedVersion: number,
): Promise<Customer> {
  const id = uuidOf(rawId, 'customer.id')
  const fields = parseMask(maskPaths)
  const input = normalizeProfile(raw)
  const v = profileViolations(input, deps.enums, new Set(fields))
  v.list.forEach((violation) => (violation.field = `customer.${violation.field}`))
  v.throwIfAny()
  return changing(deps, () =>
    deps.store.transaction(async (tx) => {
      const current = await lockedCustomer(tx, id, expectedVersion)
      const patch = profileFields(input)
      const next: Customer = { ...current }
      for (const field of fields) Object.assign(next, pick(patch, field))
      const changes = customerChanges(current, next, fields, deps.enums)
      if (changes.length === 0) return current
      const updated = { ...next, version: current.version + 1, updatedAt: deps.clock() }
      await tx.updateCustomer(updated)
      await tx.record({ kind: 'updated', customer: updated, changes })
      return updated
    }),
  )
}

function parseMask(paths: string[]): UpdatableField[] {
  const v = new Violations()
  if (paths.length === 0) v.add('update_mask', 'name at least one field to update')
  paths.forEach((path, i) => {
    const field = path.startsWith('customer.') ? path.slice('customer.'.length) : path
    // Named by position, never repeated: a caller's text does not go back into an error.
    if (!(UPDATABLE_FIELDS as readonly string[]).includes(field)) {
      v.add('update_mask', `paths[${i}] cannot be updated; allowed: ${UPDATABLE_FIELDS.join(', ')}`)
    }
  })
  v.throwIfAny()
  return [...new Set(paths.map((p) => p.replace(/^customer\./, '') as UpdatableField))]
}

function pick(p: ReturnType<typeof profileFields>, field: UpdatableField): Partial<Customer> {
  switch (field) {
    case 'username':
      return { username: p.username }
    case 'display_name':
      return { displayName: p.displayName }
    case 'first_name':
      return { firstName: p.firstName }
    case 'last_name':
      return { lastName: p.lastName }
    case 'email':
      return { email: p.email }
    case 'phone':
      return { phone: p.phone }
    case 'preferences':
      return { preferences: p.preferences }
    case 'dietary_restrictions':
      return { dietaryRestrictions: p.dietaryRestrictions }
    case 'household_id':
      return { householdId: p.householdId }
  }
}

export async function deleteCustomer(deps: CustomerDeps, rawId: string, expectedVersion: number): Promise<void> {
  const id = uuidOf(rawId, 'id')
  await changing(deps, () =>
    deps.store.transaction(async (tx) => {
      const current = await lockedCustomer(tx, id, expectedVersion)
      await tx.deleteCustomer(id)
      // The deletion is the customer's last version, so consumers ordering by version see it last.
      await tx.record({ kind: 'deleted', customer: { ...current, version: current.version + 1, updatedAt: deps.clock() } })
      return current
    }),
  )
}

export async function setActive(deps: CustomerDeps, rawId: string, active: boolean, reason = ''): Promise<Customer> {
  const id = uuidOf(rawId, 'id')
  new Violations().check([...reason].length <= 500, 'reason', 'must have at most 500 characters').throwIfAny()
  return changing(deps, () =>
    deps.store.transaction(async (tx) => {
      const current = await lockedCustomer(tx, id, 0)
      if (current.active === active) return current
      const updated = { ...current, active, version: current.version + 1, updatedAt: deps.clock() }
      await tx.updateCustomer(updated)
      await tx.record(active ? { kind: 'activated', customer: updated } : { kind: 'deactivated', customer: updated, reason })
      return updated
    }),
  )
}

export async function recordLogin(deps: CustomerDeps, rawId: string): Promise<Customer> {
  const id = uuidOf(rawId, 'id')
  return changing(deps, () =>
    deps.store.transaction(async (tx) => {
      const current = await lockedCustomer(tx, id, 0)
      const now = deps.clock()
      const updated = { ...current, lastLoginAt: now, version: current.version + 1, updatedAt: now }
      await tx.updateCustomer(updated)
      await tx.record({ kind: 'updated', customer: updated, changes: customerChanges(current, updated, ['last_login_at'], deps.enums) })
      return updated
    }),
  )
}

export interface ListRequest {
  pageSize: number
  pageToken: string
  householdId: string
  active: boolean | undefined
}

/**
 * ListCustomers positions: the last customer's registration time and id. Both are checked when a
 * token comes back (a time in range, a UUID), so a forged token is INVALID_ARGUMENT page_token,
 * never a query on garbage.
 */
const tokens = pageTokens((raw) => {
  const registeredAt = positionOf.time(raw['registeredAt'])
  const id = raw['id']
  return registeredAt && typeof id === 'string' && isUuid(id) ? { registeredAt, id: id.toLowerCase() } : undefined
})

/** Keyset paging on (registered_at, id); the token also pins the filters it was made for. */
export async function listCustomers(deps: CustomerDeps, request: ListRequest): Promise<{ customers: Customer[]; nextPageToken: string }> {
  const v = new Violations()
  v.check(Number.isInteger(request.pageSize) && request.pageSize >= 0 && request.pageSize <= 500, 'page_size', 'must be 0 to 500')
  if (request.householdId) checkUuid(v, request.householdId, 'household_id')
  v.throwIfAny()
  const filters = { householdId: request.householdId.toLowerCase(), active: request.active ?? null }
  const query: CustomerQuery = {
    limit: request.pageSize || 50,
    after: tokens.decode(request.pageToken, filters),
    householdId: filters.householdId || undefined,
    active: request.active,
  }
  const page: CustomerPage = await deps.store.customers(query)
  return { customers: page.customers, nextPageToken: page.next ? tokens.encode(page.next, filters) : '' }
}
