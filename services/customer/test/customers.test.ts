import { describe, expect, it } from 'vitest'
import { AppError, alreadyExists, unavailable } from '@brewmesh/runtime/errors.ts'
import type { Address, Customer, CustomerChange, ProfileInput } from '../src/domain/customer.ts'
import { createCustomer, listCustomers, setActive, updateCustomer, type ListRequest } from '../src/domain/customers.ts'
import { importCustomers, MAX_REPORTED_FAILURES, type ImportRow } from '../src/domain/import-customers.ts'
import type { CustomerCache, CustomerDeps, CustomerPage, CustomerQuery, CustomerStore, CustomerTx } from '../src/domain/ports.ts'
import { KNOWN_ENUMS } from '../src/proto/known-enums.ts'

const HOUSEHOLD_A = '3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f'
const HOUSEHOLD_B = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d'

/** In-memory CustomerStore: each transaction works on the live maps and is rolled back if the work throws. */
class FakeStore implements CustomerStore {
  customersById = new Map<string, Customer>()
  addressesById = new Map<string, Address>()
  requests = new Map<string, { requestHash: string; customerId: string }>()
  events: CustomerChange[] = []
  updates = 0
  queries: CustomerQuery[] = []
  page: CustomerPage = { customers: [], next: undefined }
  /** Replaces transaction methods, to simulate what the real store may do (e.g. a race on a unique key). */
  overrides: Partial<CustomerTx> = {}

  async transaction<T>(work: (tx: CustomerTx) => Promise<T>): Promise<T> {
    const saved = {
      customers: new Map(this.customersById),
      addresses: new Map(this.addressesById),
      requests: new Map(this.requests),
      events: [...this.events],
    }
    try {
      return await work(this.tx())
    } catch (err) {
      this.customersById = saved.customers
      this.addressesById = saved.addresses
      this.requests = saved.requests
      this.events = saved.events
      throw err
    }
  }

  private tx(): CustomerTx {
    return {
      customer: async (id) => this.customersById.get(id),
      matchForImport: async (email, username) => {
        const all = [...this.customersById.values()]
        return all.find((c) => c.email.toLowerCase() === email.toLowerCase()) ?? all.find((c) => c.username === username)
      },
      insertCustomer: async (c) => {
        for (const other of this.customersById.values()) {
          if (other.email.toLowerCase() === c.email.toLowerCase()) throw alreadyExists('email is already registered', 'email')
          if (other.username === c.username) throw alreadyExists('username is taken', 'username')
        }
        this.customersById.set(c.id, c)
      },
      updateCustomer: async (c) => {
        this.updates += 1
        this.customersById.set(c.id, c)
      },
      deleteCustomer: async (id) => void this.customersById.delete(id),
      address: async (id) => this.addressesById.get(id),
      insertAddress: async (a) => void this.addressesById.set(a.id, a),
      updateAddress: async (a) => void this.addressesById.set(a.id, a),
      deleteAddress: async (id) => void this.addressesById.delete(id),
      claimRequest: async (key, requestHash, customerId) => {
        const earlier = this.requests.get(key)
        if (earlier) return earlier
        this.requests.set(key, { requestHash, customerId })
        return undefined
      },
      savepoint: async <T>(work: () => Promise<T>): Promise<T> => {
        const saved = { customers: new Map(this.customersById), events: [...this.events] }
        try {
          return await work()
        } catch (err) {
          this.customersById = saved.customers
          this.events = saved.events
          throw err
        }
      },
      record: async (change) => void this.events.push(change),
      ...this.overrides,
    }
  }

  async customer(id: string) {
    return this.customersById.get(id)
  }

  async customers(query: CustomerQuery) {
    this.queries.push(query)
    return this.page
  }

  async addresses(customerId: string) {
    return [...this.addressesById.values()].filter((a) => a.customerId === customerId)
  }
}

class FakeCache implements CustomerCache {
  entries = new Map<string, Customer>()
  deleted: string[] = []
  async get(id: string) {
    return this.entries.get(id)
  }
  async set(c: Customer) {
    this.entries.set(c.id, c)
  }
  async delete(id: string) {
    this.deleted.push(id)
    this.entries.delete(id)
  }
}

const NOW = new Date('2025-06-01T12:00:00.000Z')

function setup() {
  const store = new FakeStore()
  const cache = new FakeCache()
  let n = 0
  const deps: CustomerDeps = {
    store,
    cache,
    clock: () => NOW,
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    enums: KNOWN_ENUMS,
  }
  return { store, cache, deps }
}

const profile = (overrides: Partial<ProfileInput> = {}): ProfileInput => ({
  username: 'ada_l',
  displayName: 'Ada',
  firstName: 'Ada',
  lastName: 'Lovelace',
  email: 'ada@example.com',
  phone: '+14155550123',
  preferences: undefined,
  dietaryRestrictions: [],
  householdId: '',
  ...overrides,
})

/** The AppError a promise rejects with (fails the test when it resolves or rejects with something else). */
async function appError(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${String(err)}`)
  return err
}

const fieldsOf = (err: AppError) => err.violations.map((v) => v.field)

async function* rowsOf(rows: ImportRow[]): AsyncIterable<ImportRow> {
  yield* rows
}

describe('listCustomers page tokens', () => {
  const request = (overrides: Partial<ListRequest> = {}): ListRequest => ({
    pageSize: 0,
    pageToken: '',
    householdId: '',
    active: undefined,
    ...overrides,
  })
  const after = { registeredAt: new Date('2025-01-02T03:04:05.678Z'), id: '00000000-0000-4000-8000-000000000007' }

  async function firstToken(deps: CustomerDeps, store: FakeStore, filters: Partial<ListRequest>) {
    store.page = { customers: [], next: after }
    const { nextPageToken } = await listCustomers(deps, request(filters))
    store.page = { customers: [], next: undefined }
    return nextPageToken
  }

  it('when the store reports more, then the token brings back the same position for the same filters', async () => {
    const { deps, store } = setup()
    const token = await firstToken(deps, store, { householdId: HOUSEHOLD_A, active: true })
    expect(token).not.toBe('')
    const second = await listCustomers(deps, request({ pageToken: token, householdId: HOUSEHOLD_A, active: true, pageSize: 10 }))
    expect(second.nextPageToken).toBe('')
    expect(store.queries[1]).toEqual({ limit: 10, after, householdId: HOUSEHOLD_A, active: true })
  })

  it('when the page size is 0, then 50 is asked for and the household filter is lower-cased', async () => {
    const { deps, store } = setup()
    await listCustomers(deps, request({ householdId: HOUSEHOLD_A.toUpperCase() }))
    expect(store.queries).toEqual([{ limit: 50, after: undefined, householdId: HOUSEHOLD_A, active: undefined }])
  })

  it('when a token is reused with the household only differing in case, then it is accepted', async () => {
    const { deps, store } = setup()
    const token = await firstToken(deps, store, { householdId: HOUSEHOLD_A })
    await listCustomers(deps, request({ pageToken: token, householdId: HOUSEHOLD_A.toUpperCase() }))
    expect(store.queries[1]?.after).toEqual(after)
  })

  it.each([
    ['active true to active false', { active: true }, { active: false }],
    ['active true to no active filter', { active: true }, { active: undefined }],
    ['no filter to a household', {}, { householdId: HOUSEHOLD_A }],
    ['one household to another', { householdId: HOUSEHOLD_A }, { householdId: HOUSEHOLD_B }],
  ] as const)('when a token is used after the filters change from %s, then page_token is refused', async (_, first, second) => {
    const { deps, store } = setup()
    const token = await firstToken(deps, store, first)
    const err = await appError(listCustomers(deps, request({ ...second, pageToken: token })))
    expect(err.kind).toBe('invalid')
    expect(fieldsOf(err)).toEqual(['page_token'])
    expect(store.queries).toHaveLength(1)
  })

  it.each([
    ['not base64 JSON', 'not-a-token'],
    ['JSON without a date', Buffer.from(JSON.stringify({ r: 'yesterday', i: 'x', f: '|undefined' })).toString('base64url')],
    ['JSON with a non-string id', Buffer.from(JSON.stringify({ r: '2025-01-01T00:00:00Z', i: 7, f: '|undefined' })).toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
  ])('when the token is %s, then page_token is refused', async (_, pageToken) => {
    const { deps, store } = setup()
    const err = await appError(listCustomers(deps, request({ pageToken })))
    expect(err.kind).toBe('invalid')
    expect(fieldsOf(err)).toEqual(['page_token'])
    expect(store.queries).toEqual([])
  })

  /** A token of this listing with its position changed: what a client that edits tokens sends. */
  const forged = (token: string, position: Record<string, unknown>) => {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p: Record<string, unknown> }
    return Buffer.from(JSON.stringify({ ...parsed, p: { ...parsed.p, ...position } })).toString('base64url')
  }

  it.each([
    ['a date past the year 9999', { registeredAt: '+275760-09-13T00:00:00.000Z' }],
    ['a date before 1970', { registeredAt: '1969-12-31T23:59:59.999Z' }],
    ['no date', { registeredAt: null }],
    ['an id that is not a UUID', { id: '------------------------------------' }],
    ['an id that is a number', { id: 7 }],
  ])('when a token has the shape and filters of this listing but %s, then page_token is refused before any query', async (_, position) => {
    const { deps, store } = setup()
    const token = await firstToken(deps, store, { householdId: HOUSEHOLD_A })
    const err = await appError(listCustomers(deps, request({ householdId: HOUSEHOLD_A, pageToken: forged(token, position) })))
    expect(err.kind).toBe('invalid')
    expect(fieldsOf(err)).toEqual(['page_token'])
    expect(store.queries).toHaveLength(1)
  })

  it('when the page size or household is out of range, then both are named', async () => {
    const { deps } = setup()
    const err = await appError(listCustomers(deps, request({ pageSize: 501, householdId: 'family' })))
    expect(fieldsOf(err)).toEqual(['page_size', 'household_id'])
  })
})

describe('updateCustomer', () => {
  async function seeded() {
    const s = setup()
    const created = await createCustomer(s.deps, '', profile())
    s.store.events = []
    s.cache.deleted = []
    return { ...s, created }
  }

  it('when the mask names customer.display_name, then only the display name changes and one update is recorded', async () => {
    const { deps, store, cache, created } = await seeded()
    const updated = await updateCustomer(
      deps,
      created.id,
      profile({ displayName: ' Countess ', email: 'ignored@example.com' }),
      ['customer.display_name'],
      0,
    )
    expect(updated).toMatchObject({ displayName: 'Countess', email: 'ada@example.com', version: 2, updatedAt: NOW })
    expect(store.customersById.get(created.id)).toEqual(updated)
    expect(store.events).toEqual([
      { kind: 'updated', customer: updated, changes: [{ field: 'display_name', oldValue: 'Ada', newValue: 'Countess' }] },
    ])
    expect(cache.deleted).toEqual([created.id])
  })

  it('when the mask names a path that cannot be updated, then update_mask is refused naming the path by position, and nothing changes', async () => {
    const { deps, store, created } = await seeded()
    const err = await appError(updateCustomer(deps, created.id, profile({ displayName: 'X' }), ['display_name', 'customer.active'], 0))
    expect(err.kind).toBe('invalid')
    expect(fieldsOf(err)).toEqual(['update_mask'])
    expect(err.violations[0]?.description).toContain('paths[1] cannot be updated')
    // The caller's path is not repeated back (it may be long: it would all go into the trailers).
    expect(JSON.stringify([err.message, err.violations])).not.toContain('customer.active')
    expect(store.customersById.get(created.id)).toEqual(created)
    expect(store.events).toEqual([])
  })

  it('when the mask is empty, then update_mask is refused', async () => {
    const { deps, created } = await seeded()
    expect(fieldsOf(await appError(updateCustomer(deps, created.id, profile(), [], 0)))).toEqual(['update_mask'])
  })

  it('when a masked field is invalid, then the violation is named under customer.; unmasked invalid fields are ignored', async () => {
    const { deps, created } = await seeded()
    const err = await appError(updateCustomer(deps, created.id, profile({ email: 'nope', username: 'x' }), ['email'], 0))
    expect(fieldsOf(err)).toEqual(['customer.email'])
  })

  it('when the id is not a UUID, then customer.id is refused', async () => {
    const { deps } = await seeded()
    expect(fieldsOf(await appError(updateCustomer(deps, 'abc', profile(), ['email'], 0)))).toEqual(['customer.id'])
  })

  it('when expected_version does not match, then it fails with kind aborted and nothing is written', async () => {
    const { deps, store, created } = await seeded()
    const err = await appError(updateCustomer(deps, created.id, profile({ displayName: 'Countess' }), ['display_name'], 7))
    expect(err.kind).toBe('aborted')
    expect(err.reason).toBe('VERSION_MISMATCH')
    expect(store.customersById.get(created.id)?.version).toBe(1)
    expect(store.events).toEqual([])
  })

  it('when expected_version matches, then the update applies', async () => {
    const { deps, created } = await seeded()
    expect((await updateCustomer(deps, created.id, profile({ displayName: 'Countess' }), ['display_name'], 1)).version).toBe(2)
  })

  it('when the masked value is unchanged, then the customer is returned as is and no event is recorded', async () => {
    const { deps, store, created } = await seeded()
    const same = await updateCustomer(deps, created.id, profile({ username: ' ADA_L ' }), ['username'], 0)
    expect(same).toEqual(created)
    expect(store.updates).toBe(0)
    expect(store.events).toEqual([])
  })

  it('when phone and household are cleared through the mask, then they become null', async () => {
    const { deps, store } = setup()
    const created = await createCustomer(deps, '', profile({ householdId: HOUSEHOLD_A }))
    const updated = await updateCustomer(deps, created.id, profile({ phone: '', householdId: '' }), ['phone', 'household_id'], 0)
    expect(updated).toMatchObject({ phone: null, householdId: null, version: 2 })
    expect(store.events.at(-1)).toMatchObject({
      kind: 'updated',
      changes: [
        { field: 'phone', oldValue: '+14155550123', newValue: '' },
        { field: 'household_id', oldValue: HOUSEHOLD_A, newValue: '' },
      ],
    })
  })

  it('when the customer does not exist, then it fails with kind not_found', async () => {
    const { deps } = setup()
    expect((await appError(updateCustomer(deps, HOUSEHOLD_A, profile(), ['email'], 0))).kind).toBe('not_found')
  })
})

describe('setActive', () => {
  it('when the customer is deactivated, then the version grows and a deactivated event carries the reason', async () => {
    const { deps, store } = setup()
    const created = await createCustomer(deps, '', profile())
    const updated = await setActive(deps, created.id, false, 'moved away')
    expect(updated).toMatchObject({ active: false, version: 2 })
    expect(store.events.at(-1)).toEqual({ kind: 'deactivated', customer: updated, reason: 'moved away' })
  })

  it('when the state is already the requested one, then nothing is written and no event is recorded', async () => {
    const { deps, store } = setup()
    const created = await createCustomer(deps, '', profile())
    store.events = []
    const same = await setActive(deps, created.id, true)
    expect(same).toEqual(created)
    expect(store.updates).toBe(0)
    expect(store.events).toEqual([])
  })

  it('when a deactivated customer is activated, then an activated event is recorded', async () => {
    const { deps, store } = setup()
    const created = await createCustomer(deps, '', profile())
    await setActive(deps, created.id, false)
    const again = await setActive(deps, created.id, true)
    expect(again).toMatchObject({ active: true, version: 3 })
    expect(store.events.map((e) => e.kind)).toEqual(['created', 'deactivated', 'activated'])
  })

  it('when the reason is longer than 500 characters, then reason is refused', async () => {
    const { deps } = setup()
    expect(fieldsOf(await appError(setActive(deps, HOUSEHOLD_A, false, 'x'.repeat(501))))).toEqual(['reason'])
  })
})

describe('createCustomer', () => {
  it('when a valid profile is given, then a normalized active customer at version 1 is stored with a created event', async () => {
    const { deps, store } = setup()
    const created = await createCustomer(deps, '', profile({ username: ' ADA_L ', phone: '', householdId: '' }))
    expect(created).toMatchObject({
      username: 'ada_l',
      phone: null,
      householdId: null,
      active: true,
      version: 1,
      registeredAt: NOW,
      lastLoginAt: null,
    })
    expect(created.preferences).toEqual({ defaultCustomization: undefined, likes: [], decafOnly: false })
    expect(store.events).toEqual([{ kind: 'created', customer: created }])
  })

  it('when a request id is reused with the same request, then the first customer is returned and nothing new is stored', async () => {
    const { deps, store } = setup()
    const first = await createCustomer(deps, 'req-1', profile())
    const again = await createCustomer(deps, 'req-1', profile({ username: 'ADA_L' }))
    expect(again).toEqual(first)
    expect(store.customersById.size).toBe(1)
    expect(store.events).toHaveLength(1)
  })

  it('when a request id is reused with a different request, then request_id is refused and nothing new is stored', async () => {
    const { deps, store } = setup()
    await createCustomer(deps, 'req-1', profile())
    const err = await appError(createCustomer(deps, 'req-1', profile({ username: 'someone_else', email: 'else@example.com' })))
    expect(err.kind).toBe('invalid')
    expect(err.violations).toEqual([{ field: 'request_id', description: 'was already used for a different request' }])
    expect(store.customersById.size).toBe(1)
    expect(store.events).toHaveLength(1)
  })

  it('when the request id is longer than 128 characters, then request_id is refused alongside profile violations', async () => {
    const { deps } = setup()
    expect(fieldsOf(await appError(createCustomer(deps, 'r'.repeat(129), profile({ email: '' }))))).toEqual(['email', 'request_id'])
  })

  it('when no request id is given, then the same request twice conflicts on the unique email', async () => {
    const { deps } = setup()
    await createCustomer(deps, '', profile())
    const err = await appError(createCustomer(deps, '', profile()))
    expect(err.kind).toBe('already_exists')
    expect(fieldsOf(err)).toEqual(['email'])
  })
})

describe('importCustomers', () => {
  it('when one row is bad, then it is counted as failed with its row number and fields while the others are applied', async () => {
    const { deps, store, cache } = setup()
    const existing = await createCustomer(deps, '', profile({ username: 'grace', email: 'grace@example.com', firstName: 'Grace' }))
    const same = await createCustomer(deps, '', profile({ username: 'alan', email: 'alan@example.com', firstName: 'Alan' }))
    store.events = []
    cache.deleted = []

    const summary = await importCustomers(
      deps,
      rowsOf([
        { rowNumber: 0, profile: profile({ username: 'new_one', email: 'new@example.com' }) },
        { rowNumber: 0, profile: profile({ username: 'grace', email: 'GRACE@example.com', firstName: 'Grace', lastName: 'Hopper' }) },
        { rowNumber: 0, profile: profile({ username: 'x', email: 'broken', firstName: 'Bad' }) },
        { rowNumber: 0, profile: profile({ username: 'alan', email: 'alan@example.com', firstName: 'Alan' }) },
      ]),
    )

    expect(summary).toEqual({
      received: 4,
      created: 1,
      updated: 1,
      unchanged: 1,
      failed: 1,
      failures: [
        {
          rowNumber: 3,
          reason: 'username must be 3 to 32 characters of a-z, 0-9, _ . -; email must be an email address',
          fields: ['username', 'email'],
        },
      ],
    })
    expect(store.customersById.size).toBe(3)
    expect(store.customersById.get(existing.id)).toMatchObject({ lastName: 'Hopper', email: 'GRACE@example.com', version: 2 })
    expect(store.customersById.get(same.id)).toEqual(same)
    expect(store.events.map((e) => e.kind)).toEqual(['created', 'updated'])
    expect(cache.deleted).toHaveLength(2)
    expect(cache.deleted).not.toContain(same.id)
  })

  it('when rows carry their own row numbers, then failures report those numbers', async () => {
    const { deps } = setup()
    const summary = await importCustomers(deps, rowsOf([{ rowNumber: 42, profile: profile({ phone: '12' }) }]))
    expect(summary.failures).toEqual([{ rowNumber: 42, reason: 'phone must be E.164, e.g. +14155550123', fields: ['phone'] }])
  })

  it('when a row matches no email but an existing username, then that customer is updated', async () => {
    const { deps, store } = setup()
    const existing = await createCustomer(deps, '', profile({ username: 'grace', email: 'grace@example.com' }))
    const summary = await importCustomers(
      deps,
      rowsOf([{ rowNumber: 1, profile: profile({ username: 'Grace', email: 'grace@navy.mil' }) }]),
    )
    expect(summary).toMatchObject({ created: 0, updated: 1, failed: 0 })
    expect(store.customersById.get(existing.id)).toMatchObject({ email: 'grace@navy.mil', version: 2 })
  })

  it('when inserting a row raises already_exists, then the failure names the conflicting field from the error', async () => {
    const { deps, store } = setup()
    await createCustomer(deps, '', profile({ username: 'taken', email: 'taken@example.com' }))
    // The match found nothing, then another writer took the username before the insert.
    store.overrides = { matchForImport: async () => undefined }
    const summary = await importCustomers(
      deps,
      rowsOf([{ rowNumber: 5, profile: profile({ username: 'taken', email: 'fresh@example.com' }) }]),
    )
    expect(summary).toMatchObject({ received: 1, created: 0, failed: 1 })
    expect(summary.failures).toEqual([{ rowNumber: 5, reason: 'username username is taken', fields: ['username'] }])
  })

  it('when more rows fail than MAX_REPORTED_FAILURES, then failed counts them all but only the first are reported', async () => {
    const { deps } = setup()
    const total = MAX_REPORTED_FAILURES + 5
    const rows = Array.from({ length: total }, () => ({ rowNumber: 0, profile: profile({ email: '' }) }))
    rows.push({ rowNumber: 0, profile: profile() })
    const summary = await importCustomers(deps, rowsOf(rows))
    expect(summary).toMatchObject({ received: total + 1, created: 1, failed: total })
    expect(summary.failures).toHaveLength(MAX_REPORTED_FAILURES)
    expect(summary.failures[0]).toEqual({ rowNumber: 1, reason: 'email is required', fields: ['email'] })
    expect(summary.failures.at(-1)?.rowNumber).toBe(MAX_REPORTED_FAILURES)
  })

  it('when the store is unavailable, then the import stops with that error instead of counting a failure', async () => {
    const { deps, store } = setup()
    store.transaction = async () => {
      throw unavailable('database down')
    }
    await expect(importCustomers(deps, rowsOf([{ rowNumber: 0, profile: profile() }]))).rejects.toMatchObject({ kind: 'unavailable' })
  })

  it('when the store throws a non-domain error, then the import stops with it', async () => {
    const { deps, store } = setup()
    store.transaction = async () => {
      throw new Error('socket hang up')
    }
    await expect(importCustomers(deps, rowsOf([{ rowNumber: 0, profile: profile() }]))).rejects.toThrow('socket hang up')
  })
})
