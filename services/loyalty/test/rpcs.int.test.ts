import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LedgerEntryKind, QuoteIssue, RedemptionState, Tier, type LedgerEntry } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import type { RedeemRewardRequest } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { errorReasonOf, fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { failure } from '@brewmesh/testkit/grpc.ts'
import { cart, cleanup, grant, loyaltyEnv, openAccount, SEED, startLoyalty, type Running } from './support.ts'

let svc: Running
const env = loyaltyEnv()
beforeAll(async () => {
  svc = await startLoyalty(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const getAccount = (customerId: string, client = svc.client) => client.getAccount({ customerId }).then((r) => r.account!)
const fields = (err: unknown) => fieldViolationsOf(err).map((v) => v.field)

describe('GetAccount', () => {
  it('answers NOT_FOUND for a customer without an account and INVALID_ARGUMENT for a malformed id', async () => {
    expect((await failure(getAccount(randomUUID()))).code).toBe(status.NOT_FOUND)
    const bad = await failure(getAccount('nope'))
    expect(bad.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(bad)).toEqual(['customer_id'])
  })

  it('shows balance, tier and the points to the next tier', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 620)
    expect(await getAccount(id)).toMatchObject({
      balance: '620',
      lifetimePoints: '620',
      tier: Tier.TIER_SILVER,
      nextTier: Tier.TIER_GOLD,
      pointsToNextTier: '1380',
    })
  })
})

describe('AdjustPoints', () => {
  it('applies a retried request once and refuses the same key for another adjustment', async () => {
    const id = await openAccount(svc)
    const requestId = randomUUID()
    const first = await grant(svc, id, 50, requestId)
    const again = await grant(svc, id, 50, requestId)
    expect(again.entry?.id).toBe(first.entry?.id)
    expect((await getAccount(id)).balance).toBe('50')
    const reused = await failure(grant(svc, id, 70, requestId))
    expect(reused.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(reused)).toEqual(['request_id'])
  })

  it('never takes the balance below zero: FAILED_PRECONDITION and nothing written', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 30)
    const err = await failure(grant(svc, id, -31))
    expect(err.code).toBe(status.FAILED_PRECONDITION)
    expect(err.details).toContain('LEDGER_REFUSAL_BALANCE_WOULD_BE_NEGATIVE')
    expect(errorReasonOf(err)).toBe('LEDGER_REFUSAL_BALANCE_WOULD_BE_NEGATIVE') // google.rpc.ErrorInfo, for programs
    expect((await getAccount(id)).balance).toBe('30')
    expect((await grant(svc, id, -30)).account?.balance).toBe('0')
  })

  it('reports every invalid field at once, and NOT_FOUND for an unknown account', async () => {
    const err = await failure(svc.client.adjustPoints({ requestId: '', customerId: 'x', points: '0', reason: ' ' }))
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(err).sort()).toEqual(['customer_id', 'points', 'reason', 'request_id'])
    expect((await failure(grant(svc, randomUUID(), 5))).code).toBe(status.NOT_FOUND)
  })

  it('is for staff only: a customer cannot adjust even their own account', async () => {
    const id = await openAccount(svc)
    const own = await svc.clientAs({ sub: id, roles: ['customer'] })
    const err = await failure(own.adjustPoints({ requestId: randomUUID(), customerId: id, points: '10', reason: 'me' }))
    expect(err.code).toBe(status.PERMISSION_DENIED)
  })
})

describe('ListTransactions', () => {
  it('pages newest first with a token that pins the filters, and filters by kind', async () => {
    const id = await openAccount(svc)
    for (let i = 1; i <= 5; i++) await grant(svc, id, i)
    await grant(svc, id, -1)
    const list = (pageToken: string, pageSize = 4, kinds: LedgerEntryKind[] = []) =>
      svc.client.listTransactions({ customerId: id, pageSize, pageToken, kinds, orderId: '' })
    const first = await list('')
    expect(first.entries.map((e) => e.points)).toEqual(['-1', '5', '4', '3'])
    const second = await list(first.nextPageToken)
    expect(second.entries.map((e) => e.points)).toEqual(['2', '1'])
    expect(second.nextPageToken).toBe('')
    expect(first.entries[0]).toMatchObject({ kind: LedgerEntryKind.LEDGER_ENTRY_KIND_ADJUST, balanceAfter: '14', reason: 'test grant' })
    const otherFilters = await failure(list(first.nextPageToken, 4, [LedgerEntryKind.LEDGER_ENTRY_KIND_EARN]))
    expect(fields(otherFilters)).toEqual(['page_token'])
    expect((await list('', 10, [LedgerEntryKind.LEDGER_ENTRY_KIND_EARN])).entries).toEqual([])
    expect(fields(await failure(list('', 10, [LedgerEntryKind.LEDGER_ENTRY_KIND_UNSPECIFIED])))).toEqual(['kinds[0]'])
  })

  it('lets a customer read their own ledger only', async () => {
    const id = await openAccount(svc)
    const other = await openAccount(svc)
    const own = await svc.clientAs({ sub: id, roles: ['customer'] })
    const mine = await own.listTransactions({ customerId: id, pageSize: 0, pageToken: '', kinds: [], orderId: '' })
    expect(mine.entries).toEqual([])
    const err = await failure(own.listTransactions({ customerId: other, pageSize: 0, pageToken: '', kinds: [], orderId: '' }))
    expect(err.code).toBe(status.PERMISSION_DENIED)
  })
})

describe('ListRewards and QuoteRewards', () => {
  it('lists the seeded catalog cheapest first with the customer affordability', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 900)
    const all = await svc.client.listRewards({ pageSize: 0, pageToken: '', customerId: id, onlyAffordable: false, includeInactive: false })
    expect(all.rewards.map((r) => r.reward?.costPoints)).toEqual(['400', '800', '1000', '1500', '2500'])
    expect(all.rewards.map((r) => r.affordable)).toEqual([true, true, false, false, false])
    expect(all.rewards[2]).toMatchObject({ pointsShort: '100', issue: QuoteIssue.QUOTE_ISSUE_INSUFFICIENT_POINTS })
    expect(all.balance).toBe('900')
    const affordable = await svc.client.listRewards({
      pageSize: 1,
      pageToken: '',
      customerId: id,
      onlyAffordable: true,
      includeInactive: false,
    })
    expect(affordable.rewards.map((r) => r.reward?.id)).toEqual([SEED.dollarOff])
    const next = await svc.client.listRewards({
      pageSize: 1,
      pageToken: affordable.nextPageToken,
      customerId: id,
      onlyAffordable: true,
      includeInactive: false,
    })
    expect(next.rewards.map((r) => r.reward?.id)).toEqual([SEED.tenPercent])
    expect(next.nextPageToken).toBe('')
    const err = await failure(
      svc.client.listRewards({ pageSize: 0, pageToken: '', customerId: '', onlyAffordable: true, includeInactive: false }),
    )
    expect(fields(err)).toEqual(['customer_id'])
  })

  it('quotes a cart: chosen rewards with their discount, issues instead of errors, suggestions', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 1600)
    const { quote } = await svc.order.quoteRewards({
      customerId: id,
      cart: cart(
        [
          ['espresso', 450, 1],
          ['espresso', 550, 1],
        ],
        [SEED.freeDrink, SEED.dollarOff],
      ),
    })
    expect(quote?.chosen.map((q) => [q.applicable, q.discount?.amountMinor, q.issue])).toEqual([
      [true, '550', QuoteIssue.QUOTE_ISSUE_UNSPECIFIED],
      [false, '0', QuoteIssue.QUOTE_ISSUE_INSUFFICIENT_POINTS],
    ])
    expect(quote).toMatchObject({ pointsRequired: '1500', balance: '1600', totalDiscount: { amountMinor: '550', currencyCode: 'USD' } })
    const invalid = await failure(
      svc.order.quoteRewards({
        customerId: id,
        cart: { ...cart([['espresso', 450, 1]]), subtotal: { amountMinor: '1', currencyCode: 'USD' } },
      }),
    )
    expect(invalid.code).toBe(status.INVALID_ARGUMENT)
    expect(fields(invalid)).toEqual(['cart.subtotal'])
  })
})

describe('RedeemReward', () => {
  const redeem = (r: Partial<RedeemRewardRequest> & { customerId: string }) =>
    svc.order.redeemReward({
      requestId: randomUUID(),
      rewardId: SEED.freeDrink,
      orderId: randomUUID(),
      cart: cart([['espresso', 450, 1]]),
      ...r,
    })

  it('reserves the cost against the order once per request_id', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 1600)
    const requestId = randomUUID()
    const orderId = randomUUID()
    const first = await redeem({ customerId: id, requestId, orderId })
    expect(first.redemption).toMatchObject({
      state: RedemptionState.REDEMPTION_STATE_RESERVED,
      points: '1500',
      orderId,
      discount: { amountMinor: '450' },
      lineIds: ['line-1'],
    })
    expect(first.account).toMatchObject({ balance: '100', reservedPoints: '1500' })
    const again = await redeem({ customerId: id, requestId, orderId })
    expect(again.redemption?.id).toBe(first.redemption?.id)
    expect((await getAccount(id)).balance).toBe('100')
    const reused = await failure(redeem({ customerId: id, requestId, orderId: randomUUID() }))
    expect(fields(reused)).toEqual(['request_id'])
  })

  it('refuses with FAILED_PRECONDITION naming the issue when points are short, NOT_FOUND for an unknown reward', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 100)
    const short = await failure(redeem({ customerId: id }))
    expect(short.code).toBe(status.FAILED_PRECONDITION)
    expect(short.details).toContain('QUOTE_ISSUE_INSUFFICIENT_POINTS')
    expect(errorReasonOf(short)).toBe('QUOTE_ISSUE_INSUFFICIENT_POINTS')
    expect((await failure(redeem({ customerId: id, rewardId: randomUUID() }))).code).toBe(status.NOT_FOUND)
    const ledger = await svc.client.listTransactions({ customerId: id, pageSize: 0, pageToken: '', kinds: [], orderId: '' })
    expect(ledger.entries.map((e: LedgerEntry) => e.kind)).toEqual([LedgerEntryKind.LEDGER_ENTRY_KIND_ADJUST])
  })

  it('is for the Order Service: a customer token is refused', async () => {
    const id = await openAccount(svc)
    const own = await svc.clientAs({ sub: id, roles: ['customer'] })
    const err = await failure(
      own.redeemReward({
        requestId: randomUUID(),
        customerId: id,
        rewardId: SEED.freeDrink,
        orderId: randomUUID(),
        cart: cart([['espresso', 450, 1]]),
      }),
    )
    expect(err.code).toBe(status.PERMISSION_DENIED)
  })
})

describe('concurrent writes to one account', () => {
  it('never spend the same points twice: of five parallel redemptions the balance covers one', async () => {
    const id = await openAccount(svc)
    await grant(svc, id, 1500)
    const attempts = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        svc.order.redeemReward({
          requestId: randomUUID(),
          customerId: id,
          rewardId: SEED.freeDrink,
          orderId: randomUUID(),
          cart: cart([['espresso', 450, 1]]),
        }),
      ),
    )
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1)
    const refused = attempts
      .filter((a): a is PromiseRejectedResult => a.status === 'rejected')
      .map((a) => (a.reason as { code: number }).code)
    expect(refused).toEqual([
      status.FAILED_PRECONDITION,
      status.FAILED_PRECONDITION,
      status.FAILED_PRECONDITION,
      status.FAILED_PRECONDITION,
    ])
    expect(await getAccount(id)).toMatchObject({ balance: '0', reservedPoints: '1500' })
  })
})
