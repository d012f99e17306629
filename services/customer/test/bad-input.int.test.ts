import { randomUUID } from 'node:crypto'
import { status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import type { ImportCustomersRequest } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { fieldViolationsOf, STATUS_DETAILS_KEY } from '@brewmesh/sdk/errors.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { cleanup, createCustomer, customerEnv, newAddress, newCustomerRequest, startCustomer, type Running } from './support.ts'

// A caller's mistakes are INVALID_ARGUMENT naming the field, never INTERNAL, and the answer never
// carries back what the caller sent (issue 16).
let svc: Running
const env = customerEnv()
beforeAll(async () => {
  svc = await startCustomer(env, { waitForFeed: false })
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const fields = (err: unknown) => fieldViolationsOf(err).map((v) => v.field)
/** Everything an error tells the caller: the status message and the google.rpc.Status details. */
const told = (err: ServiceError) => err.details + (err.metadata.get(STATUS_DETAILS_KEY)[0]?.toString() ?? '')

describe('ImportCustomers with rows the contract limits refuse', () => {
  const importHousehold = async (middle: Partial<ImportCustomersRequest>) => {
    const householdId = randomUUID()
    const row = (n: number, overrides: Partial<ImportCustomersRequest> = {}) => ({
      ...newCustomerRequest({ householdId }),
      rowNumber: String(n),
      ...overrides,
    })
    const summary = await svc.client.importCustomers([row(1), row(2, middle), row(3)])
    const stored = await svc.client.listCustomers({ pageSize: 10, pageToken: '', householdId })
    return { summary, stored: stored.customers }
  }

  it('when the middle row holds a NUL character, then it is reported with its field and the other two are stored', async () => {
    const { summary, stored } = await importHousehold({ firstName: 'Ada\u0000' })
    expect(summary).toMatchObject({ received: '3', created: '2', failed: '1' })
    expect(summary.failures).toEqual([{ rowNumber: '2', reason: expect.stringContaining('NUL') as string, fields: ['first_name'] }])
    expect(stored).toHaveLength(2)
  })

  it('when the middle row has a 300-character name, then it is reported with its field and the other two are stored', async () => {
    const { summary, stored } = await importHousehold({ lastName: 'x'.repeat(300) })
    expect(summary).toMatchObject({ received: '3', created: '2', failed: '1' })
    expect(summary.failures).toEqual([{ rowNumber: '2', reason: expect.stringContaining('at most 100') as string, fields: ['last_name'] }])
    expect(summary.failures[0]!.reason).not.toContain('xxxxxxxxxx')
    expect(stored).toHaveLength(2)
  })
})

describe('field masks are named, never echoed', () => {
  let c: Customer
  let addressId: string
  beforeAll(async () => {
    c = await createCustomer(svc.client)
    addressId = (await svc.client.createAddress({ address: newAddress(c.id) })).address!.id
  })
  const updateCustomer = (path: string) =>
    svc.client.updateCustomer({ customer: c, updateMask: ['display_name', path], expectedVersion: 0 })
  const updateAddress = (path: string) =>
    svc.client.updateAddress({ address: { ...newAddress(c.id), id: addressId, city: 'Shelbyville' }, updateMask: [path] })

  it('when UpdateCustomer gets an unknown 10,000-character path, then the contract limit refuses it by position', async () => {
    const path = `unknown_${'p'.repeat(10_000)}`
    const err = await failure(updateCustomer(path))
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(err)).toEqual(['update_mask.paths[1]'])
    expect(told(err)).not.toContain('pppppppppp')
  })

  it('when UpdateCustomer gets an unknown 200-character path, then update_mask is named and the path is not repeated', async () => {
    const path = `unknown_${'q'.repeat(192)}`
    const err = await failure(updateCustomer(path))
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(err)).toEqual(['update_mask'])
    expect(told(err)).not.toContain('qqqqqqqqqq')
  })

  it('when UpdateAddress gets unknown paths of 10,000 and 200 characters, then each is refused without being repeated', async () => {
    const long = await failure(updateAddress(`unknown_${'r'.repeat(10_000)}`))
    expect([long.code, fields(long)]).toEqual([status.INVALID_ARGUMENT, ['update_mask.paths[0]']])
    expect(told(long)).not.toContain('rrrrrrrrrr')
    const unknown = await failure(updateAddress(`unknown_${'s'.repeat(192)}`))
    expect([unknown.code, fields(unknown)]).toEqual([status.INVALID_ARGUMENT, ['update_mask']])
    expect(told(unknown)).not.toContain('ssssssssss')
  })
})

describe('NUL characters', () => {
  it('when CreateCustomer gets a display name with a NUL character, then display_name is refused', async () => {
    const err = await failure(svc.client.createCustomer(newCustomerRequest({ displayName: 'Ada\u0000Lovelace' })))
    expect([err.code, fields(err)]).toEqual([status.INVALID_ARGUMENT, ['display_name']])
  })

  it('when UpdateAddress gets a city with a NUL character, then address.city is refused and the address is unchanged', async () => {
    const c = await createCustomer(svc.client)
    const created = (await svc.client.createAddress({ address: newAddress(c.id) })).address!
    const err = await failure(svc.client.updateAddress({ address: { ...created, city: 'Spring\u0000field' }, updateMask: ['city'] }))
    expect([err.code, fields(err)]).toEqual([status.INVALID_ARGUMENT, ['address.city']])
    expect((await svc.client.listAddresses({ customerId: c.id })).addresses[0]?.city).toBe('Springfield')
  })
})

describe('ids and page tokens that would reach PostgreSQL', () => {
  it('when a ListCustomers page token has the right shape but a date out of range, then page_token is refused', async () => {
    const householdId = randomUUID()
    for (let i = 0; i < 2; i++) await createCustomer(svc.client, { householdId })
    const { nextPageToken } = await svc.client.listCustomers({ pageSize: 1, pageToken: '', householdId })
    expect(nextPageToken).not.toBe('')
    const token = JSON.parse(Buffer.from(nextPageToken, 'base64url').toString('utf8')) as { p: Record<string, unknown> }
    const forged = (position: Record<string, unknown>) =>
      Buffer.from(JSON.stringify({ ...token, p: { ...token.p, ...position } })).toString('base64url')
    for (const position of [{ registeredAt: '+275760-09-13T00:00:00.000Z' }, { id: '------------------------------------' }]) {
      const err = await failure(svc.client.listCustomers({ pageSize: 1, pageToken: forged(position), householdId }))
      expect([err.code, fields(err)]).toEqual([status.INVALID_ARGUMENT, ['page_token']])
    }
  })

  it('when an id is 36 characters but not a UUID, then the field is refused (not sent to a uuid column)', async () => {
    const dashes = '-'.repeat(36)
    const list = await failure(svc.client.listCustomers({ pageSize: 1, pageToken: '', householdId: dashes }))
    expect([list.code, fields(list)]).toEqual([status.INVALID_ARGUMENT, ['household_id']])
    const add = await failure(svc.client.createAddress({ address: newAddress(dashes) }))
    expect([add.code, fields(add)]).toEqual([status.INVALID_ARGUMENT, ['address.customer_id']])
  })
})
