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
import type { LoyaltyDeps, LoyaltyStore } from '../src/domain/ports.ts'
import { redeemReward } from '../src/domain/redemptions.ts'
import { cleanup, loyaltyEnv, SEED } from './support.ts'

// The store's one-statement steps against a real PostgreSQL. The ledger posting: an entry, the
// account's new state and the events are written together, or, when the account already has an
// entry of that kind for that source (a retry, a redelivery), nothing is; the redemption the entry
// is about can be written in the same statement. The redemption context: the account, an order's
// state, its redemptions and a request's redemption in one read, all locked. And what they add up
// to: RedeemReward's statements, counted.
const env = loyaltyEnv()
let config: LoyaltyConfig
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
let database: Database<LoyaltyDb>
let store: LoyaltyStore
let counted: string[] | undefined
/** ReadyForQuery messages while a test counts: one per round trip. */
let roundTrips = 0

beforeAll(async () => {
  // The service's whole configuration is read, its token verifier included.
  config = readConfig({ ...env, ...(await testIssuer()).env })
  await migrateLoyalty(config, log)
  database = createDatabase<LoyaltyDb>(config.postgres, log)
  // Every statement this file's store sends, while a test counts them (no service runs here).
  database.pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    ;(client as { query: unknown }).query = (...args: unknown[]) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text
      counted?.push(text.trim().replace(/\s+/g, ' ').toLowerCase())
      return query(...args)
    }
    // pg's wire connection is an EventEmitter of the server's messages (not in its typings).
    ;(client as unknown as { connection: NodeJS.EventEmitter }).connection.on('readyForQuery', () => counted && roundTrips++)
  })
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

describe('redemptionContext (one read: the account, the order state, its redemptions, a request’s redemption)', () => {
  it('when the order has a state and redemptions, then the account, both, oldest first, and the request id’s redemption of another order', async () => {
    const account = newAccount(randomUUID(), new Date('2026-11-29T09:00:00Z'))
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

    const context = await store.transaction((tx) => tx.redemptionContext(account.customerId, order, elsewhere.requestId))

    expect(context.account).toEqual(account)
    expect(context.state).toEqual(placed)
    expect(context.ofOrder.map((r) => r.id)).toEqual([earlier.id, later.id])
    expect(context.byRequest?.id).toBe(elsewhere.id)
  })

  it('when the order is unknown and no request id is given, then the account, and no state, no redemptions and none by request', async () => {
    const account = newAccount(randomUUID(), new Date('2026-11-29T09:00:00Z'))
    await store.transaction((tx) => tx.insertAccount(account))

    const context = await store.transaction((tx) => tx.redemptionContext(account.customerId, randomUUID()))

    expect(context).toEqual({ account, state: undefined, ofOrder: [], byRequest: undefined })
  })

  it('when the customer has no account, then nothing: no account, no state, no redemptions', async () => {
    const context = await store.transaction((tx) => tx.redemptionContext(randomUUID(), randomUUID(), `r-${randomUUID()}`))

    expect(context).toEqual({ account: undefined, state: undefined, ofOrder: [], byRequest: undefined })
  })

  it('while its transaction is open, then the account, the order’s state and its redemptions are locked against other writers', async () => {
    const account = newAccount(randomUUID(), new Date())
    const order = randomUUID()
    const reserved = redemption(account.customerId, order, `r-${randomUUID()}`, new Date())
    await store.transaction(async (tx) => {
      await tx.insertAccount(account)
      await tx.insertRedemption(reserved)
      await tx.saveOrderState({ orderId: order, customerId: account.customerId, state: 'placed', earnEntryId: null, updatedAt: new Date() })
    })
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let read!: () => void
    const wasRead = new Promise<void>((resolve) => (read = resolve))
    const holding = store.transaction(async (tx) => {
      await tx.redemptionContext(account.customerId, order)
      read()
      await held
    })
    await wasRead

    // NOWAIT: a row another transaction holds locked fails at once (55P03) instead of waiting.
    const tryLock = (table: string, where: string) =>
      sqlQuery(env, `select 1 from ${table} where ${where} for update nowait`).then(
        () => 'free',
        (err: { code?: string }) => err.code,
      )
    const locks = [
      await tryLock('accounts', `customer_id = '${account.customerId}'`),
      await tryLock('order_states', `order_id = '${order}'`),
      await tryLock('redemptions', `id = '${reserved.id}'`),
    ]
    release()
    await holding

    expect(locks).toEqual(['55P03', '55P03', '55P03'])
    expect(await tryLock('accounts', `customer_id = '${account.customerId}'`)).toBe('free')
  })
})

describe('postEntry with the redemption it is about (one statement: the redemption too)', () => {
  const storedRedemption = async (id: string) =>
    (await sqlQuery<{ state: string; release_reason: string }>(env, `select state, release_reason from redemptions where id = '${id}'`))[0]

  it('when the redemption is new, then it is inserted with the entry', async () => {
    const account = newAccount(randomUUID(), new Date())
    await store.transaction((tx) => tx.insertAccount(account))
    const reserved = redemption(account.customerId, randomUUID(), `r-${randomUUID()}`, new Date())
    const { entry, after } = earn(account, reserved.id, 10)

    const appended = await store.transaction((tx) =>
      tx.postEntry(entry, after, [entryChange(after, entry)], { redemption: reserved, write: 'insert' }),
    )

    expect(appended).toBe(true)
    expect(await storedRedemption(reserved.id)).toEqual({ state: 'reserved', release_reason: '' })
    expect(await stored(account.customerId)).toEqual({ balance: [10], entries: [10], events: ['entry'] })
  })

  it('when the redemption exists, then it takes its new state with the entry', async () => {
    const account = newAccount(randomUUID(), new Date())
    const reserved = redemption(account.customerId, randomUUID(), `r-${randomUUID()}`, new Date())
    await store.transaction(async (tx) => {
      await tx.insertAccount(account)
      await tx.insertRedemption(reserved)
    })
    const { entry, after } = earn(account, reserved.id, 10)
    const released: Redemption = { ...reserved, state: 'released', releaseReason: 'order not placed', releasedAt: new Date() }

    await store.transaction((tx) => tx.postEntry(entry, after, [entryChange(after, entry)], { redemption: released, write: 'update' }))

    expect(await storedRedemption(reserved.id)).toEqual({ state: 'released', release_reason: 'order not placed' })
  })

  it('when the transaction around it fails later, then neither the redemption nor the entry stays', async () => {
    const account = newAccount(randomUUID(), new Date())
    await store.transaction((tx) => tx.insertAccount(account))
    const reserved = redemption(account.customerId, randomUUID(), `r-${randomUUID()}`, new Date())
    const { entry, after } = earn(account, reserved.id, 10)

    const failed = store.transaction(async (tx) => {
      await tx.postEntry(entry, after, [entryChange(after, entry)], { redemption: reserved, write: 'insert' })
      throw new Error('a later step failed')
    })

    await expect(failed).rejects.toThrow('a later step failed')
    expect(await storedRedemption(reserved.id)).toBeUndefined()
    expect(await stored(account.customerId)).toEqual({ balance: [0], entries: [], events: [] })
  })
})

describe('RedeemReward on the store: its round trips to PostgreSQL', () => {
  it('when a reward is redeemed, then the locked context read with its BEGIN, the posting with the redemption and COMMIT: three round trips', async () => {
    const account: Account = { ...newAccount(randomUUID(), new Date()), balance: 5000 }
    await store.transaction((tx) => tx.insertAccount(account))
    await store.rewards() // the catalog is read once per process and kept
    const deps: LoyaltyDeps = {
      store,
      orders: { exists: () => Promise.resolve(false) },
      rules: config.rules,
      clock: () => new Date(),
      newId: randomUUID,
      announce: () => Promise.resolve(),
    }
    const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' })
    const item = { lineId: 'line-1', menuItemId: 'espresso-1', name: 'espresso', category: 'espresso', quantity: 1 }
    const request = {
      requestId: `r-${randomUUID()}`,
      customerId: account.customerId,
      rewardId: SEED.freeDrink,
      orderId: randomUUID(),
      cart: { items: [{ ...item, unitPrice: usd(450), lineTotal: usd(450) }], subtotal: usd(450), chosenRewardIds: [] },
    }

    counted = []
    roundTrips = 0
    const { redemption } = await redeemReward(deps, { kind: 'system', id: 'test' }, request)
    const statements = counted
    counted = undefined

    // The BEGIN is not a statement of its own: it goes with the first (runtime db/begin-with-statement.ts).
    expect(statements.map((text) => text.split(' ').slice(0, 3).join(' '))).toEqual([
      'select a.customer_id as', // REDEMPTION_CONTEXT
      'with written as', // POST_ENTRY with the redemption's insert
      'commit',
    ])
    expect(roundTrips).toBe(3)
    expect(await sqlQuery(env, `select state from redemptions where id = '${redemption.id}'`)).toEqual([{ state: 'reserved' }])
  })
})
