import { describe, expect, it } from 'vitest'
import { precondition, unavailable } from '@brewmesh/runtime/errors'
import { placeOrder, type PlaceInput } from '../../src/domain/place-order.ts'
import type { Claimed, OrderDeps } from '../../src/domain/ports.ts'
import { latteItem, PAYER, T0 } from './fixtures.ts'
import { MemoryStore } from './memory-store.ts'

// What a placement that reserved rewards and then failed gives back: at once, whatever the failure,
// every reservation it was answered, each named at the claim it saw (the Loyalty service keeps one
// that a retry of the same placement claimed since). A reservation whose answer never came is not
// named: a retry gets it back, or Loyalty's hold job releases it.

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

/** A placement whose redeem of `failing` fails with `error` (none: both reserved); returns what it released. */
async function placement(failing: { rewardId: string; error: Error } | undefined, clock = () => T0) {
  const releases: Claimed[][] = []
  const memory = new MemoryStore()
  const base = memory.deps()
  const deps: OrderDeps = {
    ...base,
    clock,
    store: { ...base.store, byRequestId: async () => undefined, menuItem: async () => latteItem() },
    customers: {
      known: async (id) => ({ customer: { id, displayName: 'Ana', householdId: '', active: true }, asked: false }),
      current: async () => Promise.reject(new Error('an accepted customer is not asked again')),
    },
    loyalty: {
      redeem: async (r) => {
        if (r.rewardId === failing?.rewardId) throw failing.error
        const reward = {
          rewardId: r.rewardId,
          redemptionId: `red-${r.rewardId}`,
          rewardName: 'off',
          discount: 10,
          pointsCost: '400',
          lineIds: [],
        }
        return { reward, claim: r.rewardId === FIRST ? 2 : 1 }
      },
      release: async (r) => {
        releases.push(r.only)
        return r.only.length
      },
    },
  }
  const outcome = await placeOrder(deps, input, { deadline: new Date(T0.getTime() + 5000) }).catch((err: unknown) => err)
  return { outcome, releases, stored: memory.orders.size }
}

const first = { redemptionId: `red-${FIRST}`, claim: 2 }
const second = { redemptionId: `red-${SECOND}`, claim: 1 }

describe('a placement that fails after reserving rewards', () => {
  it('gives back what it reserved when the Loyalty service refused the next reward', async () => {
    const { outcome, releases, stored } = await placement({
      rewardId: SECOND,
      error: precondition('no', 'QUOTE_ISSUE_INSUFFICIENT_POINTS'),
    })
    expect(outcome).toMatchObject({ kind: 'precondition' })
    expect(releases).toEqual([[first]])
    expect(stored).toBe(0)
  })

  it('gives back the reservations it was answered, not the one whose answer never came', async () => {
    const { outcome, releases } = await placement({ rewardId: SECOND, error: unavailable('the loyalty service did not answer in time') })
    expect(outcome).toMatchObject({ kind: 'unavailable' })
    expect(releases).toEqual([[first]])
  })

  it("gives back both, at the claims it saw, when the caller's deadline passed before the order was stored", async () => {
    const { outcome, releases, stored } = await placement(undefined, () => new Date(T0.getTime() + 6000))
    expect(outcome).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('deadline') as string })
    expect(releases).toEqual([[first, second]])
    expect(stored).toBe(0)
  })

  it('calls nothing when no reservation was answered', async () => {
    const { releases } = await placement({ rewardId: FIRST, error: unavailable('the loyalty service did not answer in time') })
    expect(releases).toEqual([])
  })
})
