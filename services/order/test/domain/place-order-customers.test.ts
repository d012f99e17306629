import { describe, expect, it } from 'vitest'
import { placeOrder, type PlaceInput } from '../../src/domain/place-order.ts'
import type { CustomerInfo, KnownCustomer, OrderDeps } from '../../src/domain/ports.ts'
import { latteItem, PAYER, T0 } from './fixtures.ts'
import { MemoryStore } from './memory-store.ts'

// The customer facts the Order Service keeps from the customer events may be moments behind the
// Customer service. They may accept an order for that moment; they never refuse one: a refusal is
// decided on the Customer service's answer of now.

const MEMBER = '22222222-2222-4222-8222-222222222222'
const HOUSEHOLD = '33333333-3333-4333-8333-333333333333'
const OTHER_HOUSEHOLD = '44444444-4444-4444-8444-444444444444'

const customer = (id: string, c: Partial<CustomerInfo> = {}): CustomerInfo => ({
  id,
  displayName: id === PAYER ? 'Ana' : 'Leo',
  householdId: HOUSEHOLD,
  active: true,
  ...c,
})

const drink = (member = '') => ({
  quantity: 1,
  memberCustomerId: member,
  item: { kind: 'drink' as const, menuItemId: latteItem().id, customization: undefined },
})

const single: PlaceInput = { kind: 'single', requestId: 'r-1', customerId: PAYER, lines: [drink()], rewardIds: [], note: '' }
const group: PlaceInput = { ...single, kind: 'group', lines: [drink(PAYER), drink(MEMBER)] }

/** Places `input` with these heard facts and these answers of the Customer service; says who was asked. */
async function placement(input: PlaceInput, heard: Record<string, KnownCustomer>, now: Record<string, CustomerInfo | undefined>) {
  const asked: string[] = []
  const memory = new MemoryStore()
  const base = memory.deps()
  const deps: OrderDeps = {
    ...base,
    store: { ...base.store, byRequestId: async () => undefined, menuItem: async () => latteItem() },
    customers: {
      known: async (id) => heard[id] ?? { customer: undefined, asked: true },
      current: async (id) => {
        asked.push(id)
        return now[id]
      },
    },
  }
  const outcome = await placeOrder(deps, input, { deadline: new Date(T0.getTime() + 5000) }).catch((err: unknown) => err)
  return { outcome, asked, stored: memory.orders.size }
}

const heardOf = (c: CustomerInfo): KnownCustomer => ({ customer: c, asked: false })

describe('the customers of an order, as the Order Service heard of them', () => {
  it('places the order on the facts it heard, asking the Customer service nothing', async () => {
    const { outcome, asked, stored } = await placement(single, { [PAYER]: heardOf(customer(PAYER)) }, {})
    expect(outcome).toMatchObject({ customerId: PAYER, customerDisplayName: 'Ana' })
    expect([asked, stored]).toEqual([[], 1])
  })

  it('asks the Customer service before refusing a customer it heard was inactive, and places the order when it says active', async () => {
    const { outcome, asked } = await placement(
      single,
      { [PAYER]: heardOf(customer(PAYER, { active: false })) },
      { [PAYER]: customer(PAYER) },
    )
    expect(outcome).toMatchObject({ customerId: PAYER })
    expect(asked).toEqual([PAYER])
  })

  it('refuses with CUSTOMER_INACTIVE when the Customer service says so too', async () => {
    const inactive = customer(PAYER, { active: false })
    const { outcome, stored } = await placement(single, { [PAYER]: heardOf(inactive) }, { [PAYER]: inactive })
    expect(outcome).toMatchObject({ kind: 'precondition', reason: 'CUSTOMER_INACTIVE' })
    expect(stored).toBe(0)
  })

  it('refuses with CUSTOMER_NOT_FOUND a customer it heard was deleted once the Customer service has no such customer', async () => {
    const { outcome, asked } = await placement(single, { [PAYER]: { customer: undefined, asked: false } }, { [PAYER]: undefined })
    expect(outcome).toMatchObject({ kind: 'precondition', reason: 'CUSTOMER_NOT_FOUND' })
    expect(asked).toEqual([PAYER])
  })

  it('does not ask twice when what it knows is the Customer service answer of now', async () => {
    const { outcome, asked } = await placement(single, { [PAYER]: { customer: undefined, asked: true } }, {})
    expect(outcome).toMatchObject({ kind: 'precondition', reason: 'CUSTOMER_NOT_FOUND' })
    expect(asked).toEqual([])
  })

  it('asks before refusing a group order whose member it heard was in another household, and places it when the member joined', async () => {
    const heard = { [PAYER]: heardOf(customer(PAYER)), [MEMBER]: heardOf(customer(MEMBER, { householdId: OTHER_HOUSEHOLD })) }
    const { outcome, asked } = await placement(group, heard, { [MEMBER]: customer(MEMBER) })
    expect(outcome).toMatchObject({ kind: 'group', householdId: HOUSEHOLD })
    expect(asked).toEqual([MEMBER])
  })

  it('refuses with MEMBER_OUTSIDE_HOUSEHOLD when the Customer service says the member is elsewhere too', async () => {
    const elsewhere = customer(MEMBER, { householdId: OTHER_HOUSEHOLD })
    const { outcome } = await placement(group, { [PAYER]: heardOf(customer(PAYER)), [MEMBER]: heardOf(elsewhere) }, { [MEMBER]: elsewhere })
    expect(outcome).toMatchObject({ kind: 'precondition', reason: 'MEMBER_OUTSIDE_HOUSEHOLD' })
  })

  it('asks before refusing a group order of a payer it heard had no household', async () => {
    const { outcome, asked } = await placement(
      group,
      { [PAYER]: heardOf(customer(PAYER, { householdId: '' })), [MEMBER]: heardOf(customer(MEMBER)) },
      { [PAYER]: customer(PAYER) },
    )
    expect(outcome).toMatchObject({ kind: 'group' })
    expect(asked).toEqual([PAYER])
  })
})
