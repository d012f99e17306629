import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address, Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { DietaryRestriction } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { errorReasonOf, fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { PRINCIPALS } from '@brewmesh/testkit/principals.ts'
import { cleanup, createCustomer, customerEnv, newCustomerRequest, startCustomer, type Running } from './support.ts'

let svc: Running
const env = customerEnv()
beforeAll(async () => {
  svc = await startCustomer(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const get = (id: string) => svc.client.getCustomer({ id }).then((r) => r.customer!)
const fields = (err: unknown) => fieldViolationsOf(err).map((v) => v.field)

describe('CreateCustomer and GetCustomer', () => {
  it('creates a customer with defaults and reads it back', async () => {
    const created = await createCustomer(svc.client, { dietaryRestrictions: [DietaryRestriction.DIETARY_RESTRICTION_VEGAN] })
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(created).toMatchObject({ active: true, version: 1, dietaryRestrictions: [DietaryRestriction.DIETARY_RESTRICTION_VEGAN] })
    expect(created.registeredAt).toBeInstanceOf(Date)
    expect(await get(created.id)).toEqual(created)
  })

  it('when the same request is retried with its request_id, then one customer exists', async () => {
    const request = newCustomerRequest({ requestId: randomUUID() })
    const [a, b] = await Promise.all([svc.client.createCustomer(request), svc.client.createCustomer(request)]).catch(async () => {
      // Two concurrent first calls race on the key: one may lose with ABORTED/ALREADY_EXISTS; a retry converges.
      const again = await svc.client.createCustomer(request)
      return [again, again]
    })
    expect(a.customer!.id).toBe(b.customer!.id)
    const third = await svc.client.createCustomer(request)
    expect(third.customer!.id).toBe(a.customer!.id)
  })

  it('refuses a request_id reused for a different request', async () => {
    const requestId = randomUUID()
    await createCustomer(svc.client, { requestId })
    const err = await failure(svc.client.createCustomer(newCustomerRequest({ requestId })))
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(err)).toEqual(['request_id'])
  })

  it('answers ALREADY_EXISTS for an email differing only in case, and for a taken username', async () => {
    const first = await createCustomer(svc.client)
    const sameEmail = await failure(svc.client.createCustomer(newCustomerRequest({ email: first.email.toUpperCase() })))
    expect(sameEmail.code).toBe(status.ALREADY_EXISTS)
    expect(fields(sameEmail)).toEqual(['email'])
    const sameUsername = await failure(svc.client.createCustomer(newCustomerRequest({ username: first.username })))
    expect(sameUsername.code).toBe(status.ALREADY_EXISTS)
    expect(fields(sameUsername)).toEqual(['username'])
  })

  it('names every invalid field in one INVALID_ARGUMENT', async () => {
    const err = await failure(
      svc.client.createCustomer(
        newCustomerRequest({ username: 'x', email: 'not-an-email', phone: '555-1234', householdId: 'family', firstName: '' }),
      ),
    )
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(err).sort()).toEqual(['email', 'first_name', 'household_id', 'phone', 'username'])
  })

  it('answers NOT_FOUND for an unknown id and INVALID_ARGUMENT for a malformed one', async () => {
    expect((await failure(get(randomUUID()))).code).toBe(status.NOT_FOUND)
    const malformed = await failure(get('42'))
    expect(malformed.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(malformed)).toEqual(['id'])
  })
})

describe('UpdateCustomer', () => {
  it('changes only the fields named in the mask and bumps the version', async () => {
    const c = await createCustomer(svc.client)
    const { customer } = await svc.client.updateCustomer({
      customer: { ...c, displayName: 'Grace', lastName: 'ignored' },
      updateMask: ['display_name'],
      expectedVersion: 1,
    })
    expect(customer).toMatchObject({ displayName: 'Grace', lastName: c.lastName, version: 2 })
    expect(await get(c.id)).toMatchObject({ displayName: 'Grace', version: 2 })
  })

  it('answers ABORTED with reason VERSION_MISMATCH when the expected version is stale', async () => {
    const c = await createCustomer(svc.client)
    await svc.client.updateCustomer({ customer: { ...c, displayName: 'One' }, updateMask: ['display_name'], expectedVersion: 1 })
    const err = await failure(
      svc.client.updateCustomer({ customer: { ...c, displayName: 'Two' }, updateMask: ['display_name'], expectedVersion: 1 }),
    )
    expect(err.code).toBe(status.ABORTED)
    expect(errorReasonOf(err)).toBe('VERSION_MISMATCH')
    expect((await get(c.id)).displayName).toBe('One')
  })

  it('refuses an empty or unknown mask path with a field violation', async () => {
    const c = await createCustomer(svc.client)
    const empty = await failure(svc.client.updateCustomer({ customer: c, updateMask: [], expectedVersion: 0 }))
    expect(fields(empty)).toEqual(['update_mask'])
    const unknown = await failure(svc.client.updateCustomer({ customer: c, updateMask: ['version'], expectedVersion: 0 }))
    expect(unknown.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(unknown)).toEqual(['update_mask'])
  })

  it('reports the invalid new value under customer.<field>', async () => {
    const c = await createCustomer(svc.client)
    const err = await failure(svc.client.updateCustomer({ customer: { ...c, email: 'nope' }, updateMask: ['email'], expectedVersion: 0 }))
    expect(fields(err)).toEqual(['customer.email'])
  })
})

describe('lifecycle RPCs', () => {
  it('deactivates with a reason, activates, and records logins', async () => {
    const c = await createCustomer(svc.client)
    const off = await svc.client.deactivateCustomer({ id: c.id, reason: 'moved away' })
    expect(off.customer).toMatchObject({ active: false, version: 2 })
    const on = await svc.client.activateCustomer({ id: c.id })
    expect(on.customer).toMatchObject({ active: true, version: 3 })
    const again = await svc.client.activateCustomer({ id: c.id })
    expect(again.customer!.version).toBe(3)
    const identity = await svc.as(PRINCIPALS.identityService)
    const login = await identity.recordLogin({ id: c.id })
    expect(login.customer!.lastLoginAt).toBeInstanceOf(Date)
  })

  it('deletes a customer: then NOT_FOUND, and a stale expected version is ABORTED (VERSION_MISMATCH) first', async () => {
    const c = await createCustomer(svc.client)
    const stale = await failure(svc.client.deleteCustomer({ id: c.id, expectedVersion: 7 }))
    expect([stale.code, errorReasonOf(stale)]).toEqual([status.ABORTED, 'VERSION_MISMATCH'])
    await svc.client.deleteCustomer({ id: c.id, expectedVersion: 1 })
    expect((await failure(get(c.id))).code).toBe(status.NOT_FOUND)
    expect((await failure(svc.client.deleteCustomer({ id: c.id, expectedVersion: 0 }))).code).toBe(status.NOT_FOUND)
  })
})

describe('ListCustomers', () => {
  it('pages through a household, filtered by active, with tokens tied to the filter', async () => {
    const householdId = randomUUID()
    const members: Customer[] = []
    for (let i = 0; i < 5; i++) members.push(await createCustomer(svc.client, { householdId }))
    await svc.client.deactivateCustomer({ id: members[4]!.id, reason: '' })

    const list = (pageToken: string, active?: boolean) => svc.client.listCustomers({ pageSize: 2, pageToken, householdId, active })
    const seen: string[] = []
    let token = ''
    do {
      const page = await list(token, true)
      expect(page.customers.length).toBeLessThanOrEqual(2)
      seen.push(...page.customers.map((c) => c.id))
      token = page.nextPageToken
    } while (token)
    expect(seen).toEqual(members.slice(0, 4).map((m) => m.id))

    const firstPage = await list('', true)
    const err = await failure(list(firstPage.nextPageToken, false))
    expect(fields(err)).toEqual(['page_token'])
    const inactive = await list('', false)
    expect(inactive.customers.map((c) => c.id)).toEqual([members[4]!.id])
  })

  it('refuses a page size above 500', async () => {
    const err = await failure(svc.client.listCustomers({ pageSize: 501, pageToken: '', householdId: '' }))
    expect(fields(err)).toEqual(['page_size'])
  })
})

describe('addresses', () => {
  const address = (customerId: string, overrides: Partial<Address> = {}): Address => ({
    id: '',
    customerId,
    street: '1 Infinite Loop',
    city: 'Cupertino',
    stateProvince: 'CA',
    postalCode: '95014',
    countryCode: 'us',
    label: 'home',
    createdAt: undefined,
    updatedAt: undefined,
    ...overrides,
  })

  it('creates, lists, updates with a mask and deletes an address', async () => {
    const c = await createCustomer(svc.client)
    const created = (await svc.client.createAddress({ address: address(c.id) })).address!
    expect(created).toMatchObject({ customerId: c.id, countryCode: 'US', city: 'Cupertino' })

    const updated = (
      await svc.client.updateAddress({ address: { ...created, city: 'Palo Alto', street: 'ignored' }, updateMask: ['city'] })
    ).address!
    expect(updated).toMatchObject({ city: 'Palo Alto', street: '1 Infinite Loop' })

    const listed = await svc.client.listAddresses({ customerId: c.id })
    expect(listed.addresses.map((a) => a.id)).toEqual([created.id])

    await svc.client.deleteAddress({ id: created.id })
    const after = await svc.client.listAddresses({ customerId: c.id })
    expect(after.addresses).toEqual([])
    expect((await failure(svc.client.deleteAddress({ id: created.id }))).code).toBe(status.NOT_FOUND)
  })

  it('validates the country code and postal code, and needs an existing customer', async () => {
    const c = await createCustomer(svc.client)
    const bad = await failure(svc.client.createAddress({ address: address(c.id, { countryCode: 'XX', postalCode: '' }) }))
    expect(bad.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(bad).sort()).toEqual(['address.country_code', 'address.postal_code'])
    const orphan = await failure(svc.client.createAddress({ address: address(randomUUID()) }))
    expect(orphan.code).toBe(status.NOT_FOUND)
  })
})

describe('message size limit', () => {
  it('refuses a request above GRPC_MAX_MESSAGE_BYTES with RESOURCE_EXHAUSTED, and keeps serving', async () => {
    const huge = 'x'.repeat(5 * 1024 * 1024)
    const err = await failure(svc.client.createCustomer(newCustomerRequest({ displayName: huge })))
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED)
    expect((await createCustomer(svc.client)).id).toBeTruthy()
  })
})

describe('statistics of a customer without orders', () => {
  it('are all zero for a known customer, NOT_FOUND for an unknown one, INVALID_ARGUMENT for a malformed id', async () => {
    const c = await createCustomer(svc.client)
    const r = await svc.client.getCustomerStats({ customerId: c.id })
    expect(r.stats).toMatchObject({ ordersPlaced: '0', totalSpent: { amountMinor: '0' } })
    expect((await failure(svc.client.getCustomerStats({ customerId: randomUUID() }))).code).toBe(status.NOT_FOUND)
    expect((await failure(svc.client.getCustomerStats({ customerId: 'nope' }))).code).toBe(status.INVALID_ARGUMENT)
  })
})
