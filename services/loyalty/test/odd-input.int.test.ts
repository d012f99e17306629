import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Cart } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import type {
  AdjustPointsBatchRequest,
  CheckoutSessionRequest,
  CheckoutSessionResponse,
} from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { cart, cleanup, grant, loyaltyEnv, openAccount, SEED, startLoyalty, type Running } from './support.ts'

// Issue 16: never INTERNAL or UNKNOWN for a caller's mistake. Well-typed values at the edges of
// their wire types (int32 and int64 extremes, unknown enum numbers, empty and odd strings) reach
// every RPC; each answer is a result or a status the caller can act on.
let svc: Running
let id: string
const env = loyaltyEnv()
beforeAll(async () => {
  svc = await startLoyalty(env)
  id = await openAccount(svc)
  await grant(svc, id, 5000)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const INT64 = ['9223372036854775807', '-9223372036854775808', '9007199254740993', '-1', '0']
const INT32 = [2147483647, -2147483648, -1, 0]

/** The code of the call's outcome: OK, or the status it failed with. */
async function codeOf(call: () => Promise<unknown>): Promise<status> {
  try {
    await call()
    return status.OK
  } catch (err) {
    return (err as { code: status }).code
  }
}

/** The first message of a stream (a stream that fails first rejects). */
async function firstOf<T>(stream: AsyncIterable<T>): Promise<T | undefined> {
  for await (const message of stream) return message
  return undefined
}

/** Fails listing each case whose call answered INTERNAL or UNKNOWN. */
async function expectNoInternal(cases: Record<string, () => Promise<unknown>>): Promise<void> {
  const bad: string[] = []
  for (const [name, call] of Object.entries(cases)) {
    const code = await codeOf(call)
    if (code === status.INTERNAL || code === status.UNKNOWN) bad.push(`${name}: ${status[code]}`)
  }
  expect(bad).toEqual([])
}

const oddCarts = (): Record<string, Cart> => {
  const base = cart([['espresso', 450, 2]])
  const item = base.items[0]!
  const withItem = (patch: Partial<typeof item>, subtotal = base.subtotal): Cart => ({ ...base, items: [{ ...item, ...patch }], subtotal })
  const money = (amountMinor: string, currencyCode = 'USD') => ({ amountMinor, currencyCode })
  return {
    'no items': { items: [], subtotal: money('0'), chosenRewardIds: [] },
    'no subtotal': { ...base, subtotal: undefined },
    'quantity int32 max': withItem({ quantity: 2147483647 }),
    'quantity negative': withItem({ quantity: -2147483648 }),
    ...Object.fromEntries(INT64.map((n) => [`unit price ${n}`, withItem({ unitPrice: money(n), lineTotal: money(n) }, money(n))])),
    'no unit price': withItem({ unitPrice: undefined }),
    'empty currency': withItem({ unitPrice: money('450', ''), lineTotal: money('900', '') }, money('900', '')),
    'chosen reward not a uuid': { ...base, chosenRewardIds: ['x'] },
    'chosen reward unknown': { ...base, chosenRewardIds: [randomUUID()] },
    'chosen reward twice': { ...base, chosenRewardIds: [SEED.dollarOff, SEED.dollarOff] },
  }
}

describe('odd but well-typed input never answers INTERNAL', () => {
  it('GetAccount, ListTransactions, ListRewards', async () => {
    const list = (patch: object) => () =>
      svc.client.listTransactions({ customerId: id, pageSize: 0, pageToken: '', kinds: [], orderId: '', ...patch })
    await expectNoInternal({
      'GetAccount empty id': () => svc.client.getAccount({ customerId: '' }),
      'GetAccount upper-case id': () => svc.client.getAccount({ customerId: id.toUpperCase() }),
      ...Object.fromEntries(INT32.map((n) => [`ListTransactions page_size ${n}`, list({ pageSize: n })])),
      'ListTransactions unknown kind': list({ kinds: [99] }),
      'ListTransactions kind -1': list({ kinds: [-1] }),
      'ListTransactions after > before': list({ createdAfter: new Date(Date.UTC(9999, 0, 1)), createdBefore: new Date(0) }),
      'ListTransactions order id not a uuid': list({ orderId: 'order-1' }),
      ...Object.fromEntries(
        INT32.map((n) => [
          `ListRewards page_size ${n}`,
          () => svc.client.listRewards({ customerId: id, pageSize: n, pageToken: '', onlyAffordable: false, includeInactive: true }),
        ]),
      ),
      'WatchAccount empty id': () => firstOf(svc.client.watchAccount({ customerId: '' })),
      'WatchAccount not a uuid': () => firstOf(svc.client.watchAccount({ customerId: 'customer-1' })),
      'ListRewards unknown customer': () =>
        svc.client.listRewards({ customerId: randomUUID(), pageSize: 0, pageToken: '', onlyAffordable: true, includeInactive: false }),
    })
  })

  it('QuoteRewards and RedeemReward with odd carts', async () => {
    const cases: Record<string, () => Promise<unknown>> = {}
    for (const [name, c] of Object.entries(oddCarts())) {
      cases[`QuoteRewards ${name}`] = () => svc.order.quoteRewards({ customerId: id, cart: c })
      cases[`RedeemReward ${name}`] = () =>
        svc.order.redeemReward({ requestId: randomUUID(), customerId: id, rewardId: SEED.dollarOff, orderId: randomUUID(), cart: c })
    }
    await expectNoInternal(cases)
  })

  it('AdjustPoints and ReleaseRedemptions', async () => {
    const adjust = (points: string) => () => svc.client.adjustPoints({ requestId: randomUUID(), customerId: id, points, reason: 'odd' })
    await expectNoInternal({
      ...Object.fromEntries([...INT64, '', '-0', '+5'].map((n) => [`AdjustPoints points "${n}"`, adjust(n)])),
      'AdjustPoints empty reason': () => svc.client.adjustPoints({ requestId: randomUUID(), customerId: id, points: '1', reason: '' }),
      'ReleaseRedemptions nothing reserved': () =>
        svc.order.releaseRedemptions({ customerId: id, orderId: randomUUID(), reason: '', only: [] }),
      'ReleaseRedemptions unknown account': () =>
        svc.order.releaseRedemptions({ customerId: randomUUID(), orderId: randomUUID(), reason: '', only: [] }),
    })
  })

  it('AdjustPointsBatch: odd line numbers and points are failed lines, not a failed call', async () => {
    const line = (lineNumber: string, points: string): AdjustPointsBatchRequest => ({
      message: { $case: 'line', value: { lineNumber, lineId: randomUUID(), customerId: id, points, reason: '' } },
    })
    const summary = await svc.client.adjustPointsBatch([
      { message: { $case: 'header', value: { batchId: randomUUID(), defaultReason: 'odd' } } },
      ...INT64.map((n) => line(n, '1')),
      ...INT64.map((n, i) => line(String(i + 1), n)),
    ])
    expect(Number(summary.received)).toBe(INT64.length * 2)
    // A message that is neither header nor line is the caller's mistake too: INVALID_ARGUMENT.
    const empty = await codeOf(() =>
      svc.client.adjustPointsBatch([
        { message: { $case: 'header', value: { batchId: randomUUID(), defaultReason: 'odd' } } },
        { message: undefined },
      ]),
    )
    expect(empty).toBe(status.INVALID_ARGUMENT)
  })

  it('CheckoutSession: odd sequences and commits are step errors, not a failed stream', async () => {
    const requests: CheckoutSessionRequest[] = [
      { sequence: '1', step: { $case: 'open', value: { customerId: id } } },
      { sequence: '9223372036854775807', step: { $case: 'cart', value: { cart: cart([['espresso', 450, 1]]) } } },
      { sequence: '-9223372036854775808', step: { $case: 'cart', value: { cart: cart([['espresso', 450, 1]]) } } },
      { sequence: '2', step: undefined },
    ]
    const answers: CheckoutSessionResponse[] = []
    for await (const answer of svc.order.checkoutSession(requests)) answers.push(answer)
    expect(answers).toHaveLength(requests.length)

    const commits: CheckoutSessionRequest[] = [
      { sequence: '1', step: { $case: 'open', value: { customerId: id } } },
      { sequence: '2', step: { $case: 'cart', value: { cart: cart([['espresso', 450, 1]], [SEED.dollarOff]) } } },
      ...['9223372036854775807', '-1', '0'].map((cartSequence, i) => ({
        sequence: String(3 + i),
        step: { $case: 'commit' as const, value: { requestId: randomUUID(), orderId: randomUUID(), cartSequence } },
      })),
      { sequence: '6', step: { $case: 'commit', value: { requestId: '', orderId: 'not-a-uuid', cartSequence: '2' } } },
    ]
    const committed: CheckoutSessionResponse[] = []
    for await (const answer of svc.order.checkoutSession(commits)) committed.push(answer)
    expect(committed.map((a) => a.result?.$case)).toEqual(['opened', 'quote', 'error', 'error', 'error', 'error'])
  })
})
