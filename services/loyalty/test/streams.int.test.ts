import { randomUUID } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LedgerEntryKind, RedemptionState, Tier, type Cart } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty.ts'
import {
  CheckoutStepError_Reason as Reason,
  LedgerRefusal,
  WatchAccountResponse_ChangeKind as Kind,
  type AdjustPointsBatchRequest,
  type CheckoutSessionRequest,
  type CheckoutSessionResponse,
  type WatchAccountResponse,
} from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { fieldViolationsOf } from '@brewmesh/sdk/errors.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'
import { customerEvent, publish } from '@brewmesh/testkit/contract-events.ts'
import { failure, pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { brokers, cart, cleanup, grant, loyaltyEnv, openAccount, SEED, startLoyalty, type LoyaltyClient, type Running } from './support.ts'

// Two replicas on one schema and one topic: changes made through one must reach streams opened
// on the other, which only Kafka connects.
let a: Running
let b: Running
const env = loyaltyEnv()
beforeAll(async () => {
  a = await startLoyalty({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-a` })
  b = await startLoyalty({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-b` }, { migrate: false })
})
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await cleanup(env)
})

const getAccount = (customerId: string) => a.client.getAccount({ customerId }).then((r) => r.account!)

describe('WatchAccount (server streaming)', () => {
  it('sends the snapshot, then balance, tier and newly affordable rewards changed through another replica', async () => {
    const id = await openAccount(a)
    await grant(a, id, 450)
    // The 400-point reward's announcement (a job) lands first, so it is part of the snapshot.
    await eventually(async () =>
      expect(await sqlQuery(env, `select 1 from reward_notifications where customer_id = '${id}'`)).toHaveLength(1),
    )
    const watch = new StreamReader<WatchAccountResponse>(b.client.watchAccount({ customerId: id }))
    const snapshot = await watch.next()
    expect(snapshot).toMatchObject({ kind: Kind.CHANGE_KIND_SNAPSHOT, account: { balance: '450', tier: Tier.TIER_BRONZE } })
    expect(snapshot.rewards.map((r) => r.id)).toEqual([SEED.dollarOff])

    await grant(a, id, 400) // 850: crosses 800 (10 % off) and Silver (500)
    const changed = await watch.next()
    expect(changed.kind).toBe(Kind.CHANGE_KIND_BALANCE_CHANGED)
    expect(changed.entry).toMatchObject({ kind: LedgerEntryKind.LEDGER_ENTRY_KIND_ADJUST, points: '400', balanceAfter: '850' })
    const tier = await watch.next()
    expect(tier).toMatchObject({ kind: Kind.CHANGE_KIND_TIER_CHANGED, previousTier: Tier.TIER_BRONZE, account: { tier: Tier.TIER_SILVER } })
    const available = await watch.next()
    expect(available.kind).toBe(Kind.CHANGE_KIND_REWARDS_AVAILABLE)
    expect(available.rewards.map((r) => r.id)).toEqual([SEED.tenPercent])
  })

  it('ends with the CLOSED message when the account closes, and answers NOT_FOUND for an unknown account', async () => {
    const id = await openAccount(a)
    const watch = new StreamReader<WatchAccountResponse>(b.client.watchAccount({ customerId: id }))
    expect((await watch.next()).kind).toBe(Kind.CHANGE_KIND_SNAPSHOT)
    await publish(brokers(), TOPICS.customerEvents + env['KAFKA_TOPIC_SUFFIX'], [customerEvent('deleted', { id })])
    expect((await watch.next()).kind).toBe(Kind.CHANGE_KIND_CLOSED)
    expect(await watch.end()).toBeUndefined()
    const unknown = new StreamReader<WatchAccountResponse>(a.client.watchAccount({ customerId: randomUUID() }))
    expect((await unknown.end())?.code).toBe(status.NOT_FOUND)
  })
})

describe('AdjustPointsBatch (client streaming)', () => {
  const send = (client: LoyaltyClient, messages: AdjustPointsBatchRequest['message'][]) =>
    client.adjustPointsBatch(messages.map((message) => ({ message })))
  const line = (lineId: string, customerId: string, points: number, reason = '') => ({
    $case: 'line' as const,
    value: { lineNumber: '0', lineId, customerId, points: String(points), reason },
  })

  it('applies each line once, reports bad lines without stopping, and counts a retried stream as duplicates', async () => {
    const [x, y] = [await openAccount(a), await openAccount(a)]
    const batchId = randomUUID()
    const header = { $case: 'header' as const, value: { batchId, defaultReason: 'spring promo' } }
    const lines = [
      line('l1', x, 100),
      line('l2', y, 50, 'birthday'),
      line('l3', randomUUID(), 10),
      line('l4', y, -500),
      line('l5', 'bad', 0),
    ]
    const first = await send(a.client, [header, ...lines])
    expect(first).toMatchObject({ batchId, received: '5', applied: '2', duplicates: '0', failed: '3', netPoints: '150' })
    expect(first.failures.map((f) => [f.lineNumber, f.refusal])).toEqual([
      ['3', LedgerRefusal.LEDGER_REFUSAL_ACCOUNT_NOT_FOUND],
      ['4', LedgerRefusal.LEDGER_REFUSAL_BALANCE_WOULD_BE_NEGATIVE],
      ['5', LedgerRefusal.LEDGER_REFUSAL_INVALID],
    ])
    expect(first.failures[2]?.fields.sort()).toEqual(['customer_id', 'points'])

    const retried = await send(b.client, [header, ...lines, line('l6', x, 5)])
    expect(retried).toMatchObject({ received: '6', applied: '1', duplicates: '2', failed: '3', netPoints: '5' })
    expect((await getAccount(x)).balance).toBe('105')
    expect((await getAccount(y)).balance).toBe('50')
    const reused = await send(a.client, [header, line('l1', x, 999)])
    expect(reused.failures[0]?.refusal).toBe(LedgerRefusal.LEDGER_REFUSAL_LINE_ID_REUSED)
  })

  it('reports a line the contract limits refuse (a NUL, a reason past 500 characters) as a failed line and applies the others', async () => {
    const x = await openAccount(a)
    const header = { $case: 'header' as const, value: { batchId: randomUUID(), defaultReason: 'limits' } }
    const run = (middle: ReturnType<typeof line>) => send(a.client, [header, line(randomUUID(), x, 1), middle, line(randomUUID(), x, 1)])

    const nul = await run(line(randomUUID(), x, 1, 'bad\u0000reason'))
    expect(nul).toMatchObject({ received: '3', applied: '2', failed: '1', netPoints: '2' })
    expect(nul.failures).toEqual([
      expect.objectContaining({ lineNumber: '2', refusal: LedgerRefusal.LEDGER_REFUSAL_INVALID, customerId: x, fields: ['reason'] }),
    ])

    // 300 characters are within the contract's 500: before, the runtime's default 256 ended the stream after line 1.
    expect(await run(line(randomUUID(), x, 1, 'r'.repeat(300)))).toMatchObject({ received: '3', applied: '3', failed: '0' })

    const long = await run(line(randomUUID(), x, 1, 'r'.repeat(501)))
    expect(long).toMatchObject({ received: '3', applied: '2', failed: '1' })
    expect(long.failures[0]).toMatchObject({ lineNumber: '2', refusal: LedgerRefusal.LEDGER_REFUSAL_INVALID, fields: ['reason'] })
    expect(long.failures[0]?.reason).not.toContain('rrrr')

    // An overlong line id is not echoed back in the failure.
    const id = await run(line('l'.repeat(129), x, 1))
    expect(id.failures[0]).toMatchObject({ lineId: '', customerId: x, fields: ['line_id'] })
    expect((await getAccount(x)).balance).toBe('9')
  })

  it('ends with INVALID_ARGUMENT naming the field when the header breaks the limits', async () => {
    const err = await failure(
      send(a.client, [{ $case: 'header', value: { batchId: randomUUID(), defaultReason: 'x\u0000' } }, line('l1', randomUUID(), 1)]),
    )
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(['header.default_reason'])
  })

  it('ends with INVALID_ARGUMENT when the header is missing, and is for operators only', async () => {
    const err = await failure(send(a.client, [line('l1', randomUUID(), 1)]))
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    const support = await a.clientAs({ sub: 'support-only', roles: ['support'] })
    expect((await failure(send(support, [{ $case: 'header', value: { batchId: randomUUID(), defaultReason: 'x' } }]))).code).toBe(
      status.PERMISSION_DENIED,
    )
  })
})

describe('CheckoutSession (bidirectional)', () => {
  /** A session: send a step, read its answer. */
  function session(client: LoyaltyClient) {
    const requests = pushable<CheckoutSessionRequest>()
    const reader = new StreamReader<CheckoutSessionResponse>(client.checkoutSession(requests))
    const call = { write: (m: CheckoutSessionRequest) => requests.push(m), end: () => requests.end() }
    let sequence = 0
    return {
      reader,
      call,
      async step(step: CheckoutSessionRequest['step'], seq = ++sequence) {
        call.write({ sequence: String(seq), step })
        const answer = await reader.next()
        expect(answer.sequence).toBe(String(seq))
        return answer
      },
      get sequence() {
        return sequence
      },
    }
  }
  const withCart = (c: Cart) => ({ $case: 'cart' as const, value: { cart: c } })

  it('quotes each cart state as it changes, then commits the last one, and a retried commit gets the same answer', async () => {
    const id = await openAccount(a)
    await grant(a, id, 2000)
    const s = session(a.order)
    const opened = await s.step({ $case: 'open', value: { customerId: id } })
    expect(opened.result).toMatchObject({ $case: 'opened', value: { account: { balance: '2000' } } })

    const one = await s.step(withCart(cart([['espresso', 450, 1]])))
    expect(one.result?.$case).toBe('quote')
    const q1 = one.result?.$case === 'quote' ? one.result.value : undefined
    expect(q1?.suggestions[0]).toMatchObject({ rewardId: SEED.freeDrink, discount: { amountMinor: '450' } })

    const two = await s.step(
      withCart(
        cart(
          [
            ['espresso', 450, 1],
            ['espresso', 600, 1],
          ],
          [SEED.freeDrink],
        ),
      ),
    )
    const q2 = two.result?.$case === 'quote' ? two.result.value : undefined
    expect(q2?.chosen.map((c) => [c.applicable, c.discount?.amountMinor])).toEqual([[true, '600']])

    const three = await s.step(
      withCart(
        cart(
          [
            ['espresso', 450, 1],
            ['espresso', 600, 1],
          ],
          [SEED.freeDrink, SEED.dollarOff],
        ),
      ),
    )
    const q3 = three.result?.$case === 'quote' ? three.result.value : undefined
    expect(q3).toMatchObject({ pointsRequired: '1900', totalDiscount: { amountMinor: '700' } })

    const invalid = await s.step(withCart({ ...cart([['espresso', 450, 1]]), subtotal: { amountMinor: '3', currencyCode: 'USD' } }))
    expect(invalid.result).toMatchObject({ $case: 'error', value: { reason: Reason.REASON_INVALID_CART } })
    const cartSeq = await s.step(
      withCart(
        cart(
          [
            ['espresso', 450, 1],
            ['espresso', 600, 1],
          ],
          [SEED.freeDrink, SEED.dollarOff],
        ),
      ),
    )
    expect(cartSeq.result?.$case).toBe('quote')

    const orderId = randomUUID()
    const requestId = randomUUID()
    const stale = await s.step({ $case: 'commit', value: { requestId, orderId, cartSequence: String(Number(cartSeq.sequence) - 1) } })
    expect(stale.result).toMatchObject({ $case: 'error', value: { reason: Reason.REASON_STALE_CART } })
    const commit = { $case: 'commit' as const, value: { requestId, orderId, cartSequence: cartSeq.sequence } }
    const committed = await s.step(commit)
    expect(committed.result?.$case).toBe('committed')
    const c = committed.result?.$case === 'committed' ? committed.result.value : undefined
    expect(c?.redemptions.map((r) => [r.rewardId, r.state, r.points])).toEqual([
      [SEED.freeDrink, RedemptionState.REDEMPTION_STATE_RESERVED, '1500'],
      [SEED.dollarOff, RedemptionState.REDEMPTION_STATE_RESERVED, '400'],
    ])
    expect(c?.account).toMatchObject({ balance: '100', reservedPoints: '1900' })
    const again = await s.step(commit)
    expect(again.result).toEqual(committed.result)
    expect((await s.step(withCart(cart([['espresso', 450, 1]])))).result).toMatchObject({
      $case: 'error',
      value: { reason: Reason.REASON_ALREADY_COMMITTED },
    })
    s.call.end()
    expect(await s.reader.end()).toBeUndefined()

    // The same commit on a new stream (a reconnect) returns the same redemptions, reserving nothing more.
    const r = session(b.order)
    await r.step({ $case: 'open', value: { customerId: id } })
    const seq = (
      await r.step(
        withCart(
          cart(
            [
              ['espresso', 450, 1],
              ['espresso', 600, 1],
            ],
            [SEED.freeDrink, SEED.dollarOff],
          ),
        ),
      )
    ).sequence
    const replay = await r.step({ $case: 'commit', value: { requestId, orderId, cartSequence: seq } })
    expect(replay.result?.$case === 'committed' && replay.result.value.redemptions.map((x) => x.id)).toEqual(
      c?.redemptions.map((x) => x.id),
    )
    r.call.end()
    expect((await getAccount(id)).balance).toBe('100')
  })

  it('answers step errors without ending the stream, refuses a commit whose reward no longer applies, and a cancel after commit releases', async () => {
    const id = await openAccount(a)
    await grant(a, id, 1600)
    const s = session(a.order)
    expect((await s.step(withCart(cart([['espresso', 450, 1]])))).result).toMatchObject({
      $case: 'error',
      value: { reason: Reason.REASON_NOT_OPENED },
    })
    await s.step({ $case: 'open', value: { customerId: id } })
    expect((await s.step({ $case: 'open', value: { customerId: id } })).result).toMatchObject({
      value: { reason: Reason.REASON_ALREADY_OPENED },
    })
    expect((await s.step(undefined)).result).toMatchObject({ value: { reason: Reason.REASON_SEQUENCE_OUT_OF_ORDER } })
    expect((await s.step({ $case: 'commit', value: { requestId: 'r', orderId: randomUUID(), cartSequence: '1' } })).result).toMatchObject({
      value: { reason: Reason.REASON_NO_CART },
    })
    const seq = (await s.step(withCart(cart([['espresso', 450, 1]], [SEED.freeDrink])))).sequence
    await grant(a, id, -200) // spent elsewhere: 1400 < 1500
    const refused = await s.step({ $case: 'commit', value: { requestId: randomUUID(), orderId: randomUUID(), cartSequence: seq } })
    expect(refused.result).toMatchObject({
      $case: 'error',
      value: { reason: Reason.REASON_REWARD_NOT_APPLICABLE, quote: { chosen: [{ applicable: false }] } },
    })
    await grant(a, id, 200)
    const seq2 = (await s.step(withCart(cart([['espresso', 450, 1]], [SEED.freeDrink])))).sequence
    const committed = await s.step({ $case: 'commit', value: { requestId: randomUUID(), orderId: randomUUID(), cartSequence: seq2 } })
    expect(committed.result?.$case).toBe('committed')
    expect((await getAccount(id)).balance).toBe('100')
    const cancelled = await s.step({ $case: 'cancel', value: { reason: 'order store unavailable' } })
    expect(cancelled.result?.$case === 'cancelled' && cancelled.result.value.released.map((x) => [x.state, x.releaseReason])).toEqual([
      [RedemptionState.REDEMPTION_STATE_RELEASED, 'order store unavailable'],
    ])
    expect(await s.reader.end()).toBeUndefined()
    expect(await getAccount(id)).toMatchObject({ balance: '1600', reservedPoints: '0' })
  })

  it('answers a step the contract limits refuse with a step error naming the field, and the session goes on', async () => {
    const id = await openAccount(a)
    const s = session(a.order)
    await s.step({ $case: 'open', value: { customerId: id } })
    const long = cart([['espresso', 450, 1]])
    long.items[0]!.lineId = 'l'.repeat(129)
    expect((await s.step(withCart(long))).result).toMatchObject({
      $case: 'error',
      value: { reason: Reason.REASON_INVALID_CART, fieldViolations: [{ field: 'cart.cart.items[0].line_id' }] },
    })
    const tooMany = cart(
      [['espresso', 450, 1]],
      Array.from({ length: 6 }, () => SEED.dollarOff),
    )
    expect((await s.step(withCart(tooMany))).result).toMatchObject({
      $case: 'error',
      value: { reason: Reason.REASON_INVALID_CART, fieldViolations: [{ field: 'cart.cart.chosen_reward_ids' }] },
    })
    expect((await s.step(withCart(cart([['espresso', 450, 1]])))).result?.$case).toBe('quote')
    expect(
      (await s.step({ $case: 'commit', value: { requestId: 'r'.repeat(121), orderId: randomUUID(), cartSequence: '4' } })).result,
    ).toMatchObject({
      $case: 'error',
      value: { reason: Reason.REASON_INVALID_COMMIT, fieldViolations: [{ field: 'commit.request_id' }] },
    })
    expect((await s.step({ $case: 'cancel', value: { reason: 'bye\u0000' } })).result).toMatchObject({
      $case: 'error',
      value: { reason: Reason.REASON_INVALID_COMMIT, fieldViolations: [{ field: 'cancel.reason' }] },
    })
    expect((await s.step({ $case: 'cancel', value: { reason: 'bye' } })).result?.$case).toBe('cancelled')
    expect(await s.reader.end()).toBeUndefined()
  })

  it('ends with NOT_FOUND when the account does not exist, and is for the Order Service only', async () => {
    const s = session(a.order)
    s.call.write({ sequence: '1', step: { $case: 'open', value: { customerId: randomUUID() } } })
    expect((await s.reader.end())?.code).toBe(status.NOT_FOUND)
    const staff = session(a.client)
    staff.call.write({ sequence: '1', step: { $case: 'open', value: { customerId: randomUUID() } } })
    expect((await staff.reader.end())?.code).toBe(status.PERMISSION_DENIED)
  })
})
