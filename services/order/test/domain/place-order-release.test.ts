import { describe, expect, it } from 'vitest'
import { precondition, unavailable } from '@brewmesh/runtime/errors'
import { placeOrder, type PlaceInput } from '../../src/domain/place-order.ts'
import type { OrderDeps } from '../../src/domain/ports.ts'
import { latteItem, PAYER, T0 } from './fixtures.ts'
import { MemoryStore } from './memory-store.ts'

// What a placement that reserved rewards and then failed does with them: given back at once when
// the Loyalty service refused a reward (a retry meets the same refusal), kept when the outcome is
// unknown (a retry with the same request_id may be storing the order with them right now).

const FIRST = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'
const SECOND = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'

const input: PlaceInput = {
  kind: 'single',
  requestId: 'retry-me',
  customerId: PAYER,
  lines: [{ quantity: 1, memberCustomerId: '', item: { kind: 'drink', menuItemId: latteItem().id, customization: undefined } }],
  rewardIds: [FIRST, SECOND],
  note: '',
}

/** A placement whose second reward fails with `second` (none: both reserved); returns the release calls it made. */
async function failingOn(second: Error | undefined, clock = () => T0) {
  const released: string[] = []
  const memory = new MemoryStore()
  const base = memory.deps()
  const deps: OrderDeps = {
    ...base,
    clock,
    store: { ...base.store, byRequestId: async () => undefined, menuItem: async () => latteItem() },
    customers: { get: async (id) => ({ id, displayName: 'Ana', householdId: '', active: true }) },
    loyalty: {
      redeem: async (r) => {
        if (r.rewardId === SECOND && second) throw second
        return { rewardId: r.rewardId, redemptionId: 'r1', rewardName: '1.00 off', discount: 100, pointsCost: '400', lineIds: [] }
      },
      release: async (r) => {
        released.push(r.orderId)
        return 1
      },
    },
  }
  const outcome = await placeOrder(deps, input, { deadline: new Date(T0.getTime() + 5000) }).catch((err: unknown) => err)
  return { outcome, released, stored: memory.orders.size }
}

describe('a placement that fails after reserving a reward', () => {
  it('gives it back at once when the Loyalty service refused the next reward', async () => {
    const { outcome, released, stored } = await failingOn(precondition('no', 'QUOTE_ISSUE_INSUFFICIENT_POINTS'))
    expect(outcome).toMatchObject({ kind: 'precondition' })
    expect(released).toHaveLength(1)
    expect(stored).toBe(0)
  })

  it('keeps it when the Loyalty service did not answer: a retry may be using it', async () => {
    const { outcome, released } = await failingOn(unavailable('the loyalty service did not answer in time; retry with the same request_id'))
    expect(outcome).toMatchObject({ kind: 'unavailable' })
    expect(released).toEqual([])
  })

  it("keeps them when the caller's deadline passed before the order was stored", async () => {
    const { outcome, released, stored } = await failingOn(undefined, () => new Date(T0.getTime() + 6000))
    expect(outcome).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('deadline') as string })
    expect(released).toEqual([])
    expect(stored).toBe(0)
  })
})
