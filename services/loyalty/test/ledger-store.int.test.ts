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
import type { Account, LedgerEntry, LoyaltyChange } from '../src/domain/model.ts'
import type { LoyaltyStore } from '../src/domain/ports.ts'
import { cleanup, loyaltyEnv } from './support.ts'

// The ledger posting against a real PostgreSQL: an entry, the account's new state and the events
// are written together, or, when the account already has an entry of that kind for that source
// (a retry, a redelivery), nothing is.
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
