import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, type Database } from '@brewmesh/runtime/db'
import { createLogger } from '@brewmesh/runtime/logger'
import { sqlQuery } from '@brewmesh/testkit/env.ts'
import { testIssuer } from '@brewmesh/testkit/tokens.ts'
import { migrateLoyalty } from '../src/app.ts'
import { readConfig, type LoyaltyConfig } from '../src/config.ts'
import { loyaltyStore } from '../src/db/loyalty-store.ts'
import type { LoyaltyDb } from '../src/db/schema.ts'
import { newAccount } from '../src/domain/ledger.ts'
import type { Account, LedgerEntry, LoyaltyChange, Redemption } from '../src/domain/model.ts'
import type { LoyaltyStore } from '../src/domain/ports.ts'
import { cleanup, loyaltyEnv, SEED } from './support.ts'

// The store's one-statement steps against a real PostgreSQL. The ledger posting: an entry, the
// account's new state and the events are written together, or, when the account already has an
// entry of that kind for that source (a retry, a redelivery), nothing is. The redemption context:
// an order's state, its redemptions and a request's redemption in one read.
const env = loyaltyEnv()
let config: LoyaltyConfig
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
let database: Database<LoyaltyDb>
let store: LoyaltyStore

beforeAll(async () => {
  // The service's whole configuration is read, its token verifier included.
  config = readConfig({ ...env, ...(await testIssuer()).env })
  await migrateLoyalty(config, log)
  database = createDatabase<LoyaltyDb>(config.postgres, log)
  // The outbox row names the change's kind, enough to count what was recorded.
  store = loyaltyStore(database.db, config.postgres.schema, (change: LoyaltyChange) => ({
    topic: 'loyalty-test',
    key: change.account.customerId,
    payload: new TextEncoder().encode(change.kind),
    headers: {},
  }))
})
afterAll(async () => {
  await database?.stop()
  await cleanup(env)
})

const earn = (account: Account, sourceId: string, points: number): { entry: LedgerEntry; after: Account } => {
  const now = new Date()
  const after = {
    ...account,
    balance: account.balance + points,
    lifetime: account.lifetime + points,
    version: account.version + 1,
    updatedAt: now,
  }
  const entry: LedgerEntry = {
    id: randomUUID(),
    customerId: account.customerId,
    kind: 'earn',
    points,
    balanceAfter: after.balance,
    sourceId,
    orderId: sourceId,
    redemptionId: '',
    batchId: '',
    reason: 'order completed',
    actor: { kind: 'system', id: 'test' },
    earnBasis: null,
    multiplierPercent: 100,
    reversesEntryId: '',
    requestHash: '',
    createdAt: now,
  }
  return { entry, after }
}
const entryChange = (after: Account, entry: LedgerEntry): LoyaltyChange => ({ kind: 'entry', account: after, entry, tierBefore: 'bronze' })

const stored = async (customerId: string) => ({
  balance: (await sqlQuery<{ balance: string }>(env, `select balance from accounts where customer_id = '${customerId}'`)).map((r) =>
    Number(r.balance),
  ),
  entries: (await sqlQuery<{ points: string }>(env, `select points from ledger_entries where customer_id = '${customerId}'`)).map((r) =>
    Number(r.points),
  ),
  events: (await sqlQuery<{ payload: Buffer }>(env, `select payload from outbox where key = '${customerId}' order by id`)).map((r) =>
    r.payload.toString(),
  ),
})

describe('postEntry (one statement: the entry, the account, the events)', () => {
  it('when the entry is new, then it is appended, the account takes its new state and every change is in the outbox, in order', async () => {
    const account = newAccount(randomUUID(), new Date())
    await store.transaction((tx) => tx.insertAccount(account))
    const { entry, after } = earn(account, randomUUID(), 120)
    const tier: LoyaltyChange = { kind: 'tier_changed', account: after, previousTier: 'bronze', tier: 'silver', entry }

    const appended = await store.transaction((tx) => tx.postEntry(entry, after, [entryChange(after, entry), tier]))

    expect(appended).toBe(true)
    expect(await stored(account.customerId)).toEqual({ balance: [120], entries: [120], events: ['entry', 'tier_changed'] })
  })

  it('when the account has an entry of that kind for that source, then nothing is written: not the entry, the account or an event', async () => {
    const account = newAccount(randomUUID(), new Date())
    await store.transaction((tx) => tx.insertAccount(account))
    const source = randomUUID()
    const first = earn(account, source, 120)
    await store.transaction((tx) => tx.postEntry(first.entry, first.after, [entryChange(first.after, first.entry)]))

    const again = earn(first.after, source, 75)
    const appended = await store.transaction((tx) => tx.postEntry(again.entry, again.after, [entryChange(again.after, again.entry)]))

    expect(appended).toBe(false)
    expect(await stored(account.customerId)).toEqual({ balance: [120], entries: [120], events: ['entry'] })
  })

  it('when the transaction around it fails later, then nothing of the posting stays', async () => {
    const account = newAccount(randomUUID(), new Date())
    await store.transaction((tx) => tx.insertAccount(account))
    const { entry, after } = earn(account, randomUUID(), 50)

    const failed = store.transaction(async (tx) => {
      await tx.postEntry(entry, after, [entryChange(after, entry)])
      throw new Error('a later step failed')
    })

    await expect(failed).rejects.toThrow('a later step failed')
    expect(await stored(account.customerId)).toEqual({ balance: [0], entries: [], events: [] })
  })
})

const redemption = (customerId: string, orderId: string, requestId: string, reservedAt: Date): Redemption => ({
  id: randomUUID(),
  customerId,
  rewardId: SEED.freeDrink,
  rewardName: 'Free drink',
  rewardKind: 'free_drink',
  orderId,
  points: 100,
  discount: { amountMinor: 450, currency: 'USD' },
  lineIds: ['line-1'],
  state: 'reserved',
  requestId,
  requestHash: 'hash',
  releaseReason: '',
  reservedAt,
  claimedAt: reservedAt,
  claim: 1,
  confirmedAt: null,
  releasedAt: null,
})

describe('redemptionContext (one read: the order state, its redemptions, a request’s redemption)', () => {
  it('when the order has a state and redemptions, then both, oldest first, and the request id’s redemption of another order', async () => {
    const account = newAccount(randomUUID(), new Date())
    const [order, other] = [randomUUID(), randomUUID()]
    const later = redemption(account.customerId, order, `r-${randomUUID()}`, new Date('2026-11-29T10:00:02Z'))
    const earlier = redemption(account.customerId, order, `r-${randomUUID()}`, new Date('2026-11-29T10:00:01Z'))
    const elsewhere = redemption(account.customerId, other, `r-${randomUUID()}`, new Date('2026-11-29T10:00:00Z'))
    const placed = {
      orderId: order,
      customerId: account.customerId,
      state: 'placed' as const,
      earnEntryId: null,
      updatedAt: new Date('2026-11-29T10:00:03Z'),
    }
    await store.transaction(async (tx) => {
      await tx.insertAccount(account)
      for (const r of [later, earlier, elsewhere]) await tx.insertRedemption(r)
      await tx.saveOrderState(placed)
    })

    const context = await store.transaction((tx) => tx.redemptionContext(order, elsewhere.requestId))

    expect(context.state).toEqual(placed)
    expect(context.ofOrder.map((r) => r.id)).toEqual([earlier.id, later.id])
    expect(context.byRequest?.id).toBe(elsewhere.id)
  })

  it('when the order is unknown and no request id is given, then no state, no redemptions and none by request', async () => {
    const context = await store.transaction((tx) => tx.redemptionContext(randomUUID()))

    expect(context).toEqual({ state: undefined, ofOrder: [], byRequest: undefined })
  })
})
