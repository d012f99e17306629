import { describe, expect, it } from 'vitest'
import type { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import type { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import { PoisonMessage } from '@brewmesh/runtime/kafka'
import { latestOfEach } from '../src/domain/customer-facts.ts'
import type { CustomerFact } from '../src/domain/ports.ts'
import { heardFactOf } from '../src/events/customer-facts.consumer.ts'
import { customerFact } from './domain/fixtures.ts'

const ID = 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA'
const HOUSEHOLD = 'BBBBBBBB-BBBB-4BBB-8BBB-BBBBBBBBBBBB'

const customer = (c: Partial<Customer> = {}): Customer =>
  ({ id: ID, displayName: 'Ana', householdId: HOUSEHOLD, active: true, version: 3, ...c }) as Customer

const event = (payload: CustomerEvent['payload'], eventId = 'e-1'): CustomerEvent => ({
  metadata: { eventId, eventType: '', occurredAt: undefined, source: 'customer', traceparent: '' },
  customerId: ID,
  householdId: HOUSEHOLD,
  version: 3,
  payload,
})

const fact = (version: number, f: Partial<CustomerFact> = {}) => customerFact('a', version, f)

describe('the fact a customer event states', () => {
  it('is the customer after the change, ids in lower case', () => {
    expect(heardFactOf(event({ $case: 'deactivated', value: { customer: customer({ active: false }), reason: 'moved' } }))).toEqual({
      eventId: 'e-1',
      fact: { id: ID.toLowerCase(), displayName: 'Ana', householdId: HOUSEHOLD.toLowerCase(), active: false, version: 3, deleted: false },
    })
  })

  it('marks a deletion as deleted', () => {
    expect(heardFactOf(event({ $case: 'deleted', value: { customer: customer({ version: 4 }) } }))?.fact).toMatchObject({
      deleted: true,
      version: 4,
    })
  })

  it('is nothing for an address event, which carries no customer', () => {
    expect(heardFactOf(event({ $case: 'addressRemoved', value: { address: undefined } }))).toBeUndefined()
  })

  it.each([
    ['no event id', event({ $case: 'created', value: { customer: customer() } }, '')],
    ['a customer id that is not a UUID', event({ $case: 'created', value: { customer: customer({ id: 'nope' }) } })],
    ['a household id that is not a UUID', event({ $case: 'updated', value: { customer: customer({ householdId: 'h' }), changes: [] } })],
    ['a NUL byte in the display name', event({ $case: 'created', value: { customer: customer({ displayName: 'A\u0000na' }) } })],
    ['no customer', event({ $case: 'created', value: { customer: undefined } })],
  ])('is poison with %s', (_, poison) => {
    expect(() => heardFactOf(poison)).toThrow(PoisonMessage)
  })
})

describe('the last fact of each customer in a chunk', () => {
  it('is the highest version, one per customer, whatever the order they came in', () => {
    const latest = latestOfEach([fact(2), fact(5), fact(3), fact(1, { id: 'b' })])
    expect(latest.map((f) => [f.id, f.version])).toEqual([
      ['a', 5],
      ['b', 1],
    ])
  })

  it('is the deletion, the last version a customer has', () => {
    expect(latestOfEach([fact(4, { deleted: true }), fact(4)])).toEqual([fact(4, { deleted: true })])
  })
})
