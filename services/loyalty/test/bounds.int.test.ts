import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Cart } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import { CheckoutStepError_Reason, LedgerRefusal, type CheckoutSessionResponse } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { errorReasonOf, fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { sqlQuery } from '@brewmesh/testkit/env.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { cleanup, grant, loyaltyEnv, openAccount, SEED, startLoyalty, type Running } from './support.ts'

// What a caller cannot push past: the contract's limits, page tokens, the size of numbers.
let svc: Running
const env = loyaltyEnv()
beforeAll(async () => {
  svc = await startLoyalty(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const fields = (err: unknown) => fieldViolationsOf(err).map((v) => v.field)

describe('contract limits', () => {
  it('refuse a NUL, an overlong field and an out-of-range time before the service reads them, naming each field', async () => {
    const id = await openAccount(svc)
    const nul = await failure(svc.client.adjustPoints({ requestId: 'r'.repeat(129), customerId: id, points: '1', reason: 'a\u0000b' }))
    expect(nul.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(nul).sort()).toEqual(['reason', 'request_id'])
    const list = (createdAfter?: Date, createdBefore?: Date) =>
      svc.client.listTransactions({ customerId: id, pageSize: 0, pageToken: '', kinds: [], orderId: '', createdAfter, createdBefore })
    const early = await failure(list(new Date(Date.UTC(1, 0, 1))))
    expect({ code: early.code, fields: fields(early) }).toEqual({ code: status.INVALID_ARGUMENT, fields: ['created_after'] })
    const late = await failure(list(undefined, new Date(Date.UTC(10_000, 0, 1))))
    expect({ code: late.code, fields: fields(late) }).toEqual({ code: status.INVALID_ARGUMENT, fields: ['created_before'] })
    expect((await list(new Date(0), new Date(Date.UTC(9999, 11, 31)))).entries).toEqual([])
    const longOrder = await failure(
      svc.client.listTransactions({ customerId: id, pageSize: 0, pageToken: '', kinds: [], orderId: 'o'.repeat(129) }),
    )
    expect(fields(longOrder)).toEqual(['order_id'])
  })
})

/** A page token with its position changed as a caller could (tokens are opaque, not sealed). */
function tamper(token: string, position: Record<string, unknown>): string {
  const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p: Record<string, unknown>; f: string }
  return Buffer.from(JSON.stringify({ ...parsed, p: { ...parsed.p, ...position } })).toString('base64url')
}

describe('forged page tokens', () => {
  it('ListTransactions: a garbled token, or a real one whose position was changed, is INVALID_ARGUMENT page_token', async () => {
    const id = await openAccount(svc)
    for (let i = 1; i <= 3; i++) await grant(svc, id, i)
    const list = (pageToken: string) => svc.client.listTransactions({ customerId: id, pageSize: 2, pageToken, kinds: [], orderId: '' })
    const { nextPageToken } = await list('')
    expect((await list(nextPageToken)).entries.map((e) => e.points)).toEqual(['1'])
    for (const forged of [
      'not-a-token',
      tamper(nextPageToken, { t: 'yesterday' }),
      tamper(nextPageToken, { t: '+275760-09-13T00:00:00.000Z' }),
      tamper(nextPageToken, { t: -1 }),
      tamper(nextPageToken, { id: 'x'.repeat(1000) }),
      tamper(nextPageToken, { id: 42 }),
    ]) {
      const err = await failure(list(forged))
      expect({ code: err.code, fields: fields(err) }).toEqual({ code: status.INVALID_ARGUMENT, fields: ['page_token'] })
    }
  })

  it('ListRewards: a token whose offset was changed to something no page ends at is INVALID_ARGUMENT page_token', async () => {
    const list = (pageToken: string) =>
      svc.client.listRewards({ pageSize: 2, pageToken, customerId: '', onlyAffordable: false, includeInactive: false })
    const { nextPageToken } = await list('')
    expect((await list(nextPageToken)).rewards).toHaveLength(2)
    for (const forged of ['%%%', tamper(nextPageToken, { o: -2 }), tamper(nextPageToken, { o: 1.5 }), tamper(nextPageToken, { o: '2' })]) {
      const err = await failure(list(forged))
      expect({ code: err.code, fields: fields(err) }).toEqual({ code: status.INVALID_ARGUMENT, fields: ['page_token'] })
    }
  })
})

describe('points at 2^53 - 1', () => {
  const MAX = 9_007_199_254_740_991n

  it('AdjustPoints: the balance reaches 2^53 - 1 exactly; one more point is FAILED_PRECONDITION with a reason, a larger number INVALID_ARGUMENT', async () => {
    const id = await openAccount(svc)
    const full = await grant(svc, id, MAX)
    expect(full.entry).toMatchObject({ points: '9007199254740991', balanceAfter: '9007199254740991' })
    expect(full.account).toMatchObject({ balance: '9007199254740991', lifetimePoints: '9007199254740991' })

    const over = await failure(grant(svc, id, 1))
    expect(over.code).toBe(status.FAILED_PRECONDITION)
    expect(errorReasonOf(over)).toBe('LEDGER_REFUSAL_BALANCE_WOULD_EXCEED_MAXIMUM')
    for (const points of [MAX + 1n, -(MAX + 1n), 2n ** 63n - 1n]) {
      const err = await failure(grant(svc, id, points))
      expect({ code: err.code, fields: fields(err) }).toEqual({ code: status.INVALID_ARGUMENT, fields: ['points'] })
    }
    expect((await grant(svc, id, -MAX)).account).toMatchObject({ balance: '0', lifetimePoints: '0' })
  })

  it('keeps balance_after equal to the running sum of the entries up to the maximum', async () => {
    const id = await openAccount(svc)
    const steps = [MAX - 10n, 3n, 7n, -MAX, 1n]
    for (const points of steps) await grant(svc, id, points)
    const { entries } = await svc.client.listTransactions({ customerId: id, pageSize: 0, pageToken: '', kinds: [], orderId: '' })
    let sum = 0n
    const running = steps.map((p) => String((sum += p)))
    expect(entries.map((e) => e.balanceAfter).reverse()).toEqual(running)
    expect(running).toContain(String(MAX))
    const [stored] = await sqlQuery<{ sum: string; balance: string }>(
      env,
      `select (select sum(points) from ledger_entries where customer_id = '${id}')::text as sum, balance::text from accounts where customer_id = '${id}'`,
    )
    expect(stored).toEqual({ sum: '1', balance: '1' })
  })

  it('AdjustPointsBatch: a line past what the account holds fails BALANCE_WOULD_EXCEED_MAXIMUM; net points add up exactly past 2^53', async () => {
    const [x, y, z] = [await openAccount(svc), await openAccount(svc), await openAccount(svc)]
    await grant(svc, z, MAX)
    const line = (customerId: string, points: bigint) => ({
      message: { $case: 'line' as const, value: { lineNumber: '0', lineId: randomUUID(), customerId, points: String(points), reason: '' } },
    })
    const summary = await svc.client.adjustPointsBatch([
      { message: { $case: 'header', value: { batchId: randomUUID(), defaultReason: 'bounds' } } },
      line(x, MAX),
      line(y, MAX),
      line(z, 1n),
    ])
    expect(summary).toMatchObject({ applied: '2', failed: '1', netPoints: String(2n * MAX) })
    expect(summary.failures[0]).toMatchObject({ lineNumber: '3', refusal: LedgerRefusal.LEDGER_REFUSAL_BALANCE_WOULD_EXCEED_MAXIMUM })
  })

  it('PostgreSQL refuses a balance past 2^53 - 1 too (a CHECK constraint behind the ledger)', async () => {
    const id = await openAccount(svc)
    await expect(sqlQuery(env, `update accounts set balance = 9007199254740992 where customer_id = '${id}'`)).rejects.toThrow(
      /accounts_points_within_safe_integers/,
    )
    await grant(svc, id, 10)
    await expect(sqlQuery(env, `update accounts set reserved_points = 9007199254740982 where customer_id = '${id}'`)).rejects.toThrow(
      /accounts_points_within_safe_integers/,
    )
  })

  it('quotes carts up to 2^53 - 1 minor units exactly and refuses amounts past it, naming the field', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 1500)
    const priced = (unit: string) => ({
      items: [
        {
          lineId: 'l1',
          menuItemId: 'm1',
          name: 'n',
          category: 'espresso',
          customization: undefined,
          quantity: 1,
          unitPrice: { amountMinor: unit, currencyCode: 'USD' },
          lineTotal: { amountMinor: unit, currencyCode: 'USD' },
        },
      ],
      subtotal: { amountMinor: unit, currencyCode: 'USD' },
      chosenRewardIds: [SEED.freeDrink],
    })
    const { quote } = await svc.order.quoteRewards({ customerId: id, cart: priced(String(MAX)) })
    expect(quote?.chosen[0]).toMatchObject({ applicable: true, discount: { amountMinor: String(MAX) } })
    const err = await failure(svc.order.quoteRewards({ customerId: id, cart: priced(String(MAX + 1n)) }))
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(err)).toEqual(['cart.items[0].unit_price', 'cart.items[0].line_total', 'cart.subtotal'])
  })
})

describe('error messages name fields, never what the caller sent', () => {
  // 100 items, each priced in its own made-up currency ("AAA", "AAB", ...), none the subtotal's.
  const codes = Array.from(
    { length: 100 },
    (_, i) => `A${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`,
  )
  const mixed = (): Cart => ({
    items: codes.map((code, i) => ({
      lineId: `l${i}`,
      menuItemId: `m${i}`,
      name: 'n',
      category: 'espresso',
      customization: undefined,
      quantity: 1,
      unitPrice: { amountMinor: '100', currencyCode: code },
      lineTotal: { amountMinor: '100', currencyCode: code },
    })),
    subtotal: { amountMinor: '10000', currencyCode: 'USD' },
    chosenRewardIds: [],
  })
  const echoes = (text: string) => codes.filter((code) => text.includes(code))
  const FIRST = 'cart.items[0].unit_price.currency_code'

  it('QuoteRewards and RedeemReward: 100 items in 100 currencies get a short status message naming the first field', async () => {
    const id = await openAccount(svc)
    for (const call of [
      () => svc.order.quoteRewards({ customerId: id, cart: mixed() }),
      () =>
        svc.order.redeemReward({ requestId: randomUUID(), customerId: id, rewardId: SEED.dollarOff, orderId: randomUUID(), cart: mixed() }),
    ]) {
      const err = await failure(call())
      expect(err.code).toBe(status.INVALID_ARGUMENT)
      expect(err.details.length).toBeLessThan(120)
      expect(err.details).toContain(FIRST)
      expect(fields(err)).toHaveLength(200)
      expect(
        echoes(
          err.details +
            fieldViolationsOf(err)
              .map((v) => v.description)
              .join('\n'),
        ),
      ).toEqual([])
    }
  })

  it('CheckoutSession: the INVALID_CART step error for the same cart is as short, and names the field', async () => {
    const id = await openAccount(svc)
    const answers = svc.order.checkoutSession([
      { sequence: '1', step: { $case: 'open', value: { customerId: id } } },
      { sequence: '2', step: { $case: 'cart', value: { cart: mixed() } } },
    ])
    const results: CheckoutSessionResponse['result'][] = []
    for await (const answer of answers) results.push(answer.result)
    const error = results[1]?.$case === 'error' ? results[1].value : undefined
    expect(error?.reason).toBe(CheckoutStepError_Reason.REASON_INVALID_CART)
    expect(error?.message.length).toBeLessThan(120)
    expect(error?.message).toContain('cart.cart.items[0].unit_price.currency_code')
    expect(echoes(error?.message + (error?.fieldViolations ?? []).map((v) => v.description).join('\n'))).toEqual([])
  })
})
