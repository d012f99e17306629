import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, type Database } from '@brewmesh/runtime/db'
import { createLogger } from '@brewmesh/runtime/logger'
import { genericPlanScans, sqlQuery, statementRecorder, type PlanScan } from '@brewmesh/testkit/env.ts'
import { testIssuer } from '@brewmesh/testkit/tokens.ts'
import { migrateLoyalty } from '../src/app.ts'
import { readConfig } from '../src/config.ts'
import { loyaltyStore } from '../src/db/loyalty-store.ts'
import type { LoyaltyDb } from '../src/db/schema.ts'
import { newAccount } from '../src/domain/ledger.ts'
import type { LoyaltyStore } from '../src/domain/ports.ts'
import { cleanup, loyaltyEnv, SEED } from './support.ts'

// The services run each statement with parameters as a named prepared statement, and PostgreSQL
// may plan one once for every value (a generic plan) and keep that plan. A statement whose generic
// plan scans a whole table costs more with every row the table gains: the redemption context's
// did, 1.2 ms of PostgreSQL's CPU a redemption with 6,000 redemptions in the table
// (bench/README.md, place-order, twentieth session). These tests read the generic plans of the
// redemption statements, on a table as new as after a migration (never analyzed) and on one of
// 20,000 rows.
const env = loyaltyEnv()
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
let database: Database<LoyaltyDb>
let store: LoyaltyStore
let recorder: ReturnType<typeof statementRecorder>
const customerId = randomUUID()

beforeAll(async () => {
  const config = readConfig({ ...env, ...(await testIssuer()).env })
  await migrateLoyalty(config, log)
  database = createDatabase<LoyaltyDb>(config.postgres, log)
  recorder = statementRecorder(database.pool)
  store = loyaltyStore(database.db, config.postgres.schema, () => ({
    topic: 'loyalty-test',
    key: '',
    payload: new Uint8Array(),
    headers: {},
  }))
  await store.transaction((tx) => tx.insertAccount(newAccount(customerId, new Date())))
})
afterAll(async () => {
  await database?.stop()
  await cleanup(env)
})

/** The generic plan's scans of each statement `work` sends to the redemptions table. */
async function redemptionScans(work: () => Promise<unknown>): Promise<PlanScan[][]> {
  const sent = (await recorder.during(work)).filter((s) => s.values.length > 0 && /\bredemptions\b/.test(s.text))
  expect(sent.length).toBeGreaterThan(0)
  return Promise.all(sent.map((s) => genericPlanScans(env, s.text, s.values)))
}

const seqScansOfRedemptions = (scans: PlanScan[]) => scans.filter((s) => s.node === 'Seq Scan' && s.relation === 'redemptions')
const indexes = (scans: PlanScan[]) => scans.flatMap((s) => (s.index ? [s.index] : []))

function expectContextByIndex(context: PlanScan[][]) {
  for (const scans of context) {
    expect(seqScansOfRedemptions(scans)).toEqual([])
    expect(indexes(scans)).toEqual(expect.arrayContaining(['redemptions_by_order', 'redemptions_live_request']))
  }
}

const planRedemptionStatements = async () => ({
  context: await redemptionScans(() => store.transaction((tx) => tx.redemptionContext(customerId, randomUUID(), `r-${randomUUID()}`))),
  reserved: await redemptionScans(() => store.transaction((tx) => tx.reservedRedemptions(customerId))),
  stranded: await redemptionScans(() => store.strandedRedemptions(new Date(), 10)),
})

describe('the generic plans of the redemption statements', () => {
  it('when the table is new and never analyzed, then the redemption context looks its rows up by index, by order and by request id', async () => {
    const plans = await planRedemptionStatements()

    expectContextByIndex(plans.context)
  })

  it('when the table holds 20,000 redemptions, then each statement uses its index: the context both, the reserved and the stranded their partial ones', async () => {
    await sqlQuery(
      env,
      `insert into redemptions (id, customer_id, reward_id, reward_name, reward_kind, order_id, points, discount_minor, currency_code,
                                line_ids, state, request_id, request_hash, reserved_at, claimed_at)
       select gen_random_uuid(), $1, $2, 'Free drink', 'free_drink', 'order-' || g, 100, 450, 'USD', '{}',
              case when g % 100 = 0 then 'reserved' else 'confirmed' end, 'request-' || g, 'hash', now(), now()
         from generate_series(1, 20000) g`,
      [customerId, SEED.freeDrink],
    )
    await sqlQuery(env, 'analyze redemptions')

    const plans = await planRedemptionStatements()

    expectContextByIndex(plans.context)
    for (const scans of plans.reserved) expect(indexes(scans)).toContain('redemptions_reserved')
    for (const scans of plans.stranded) expect(indexes(scans)).toContain('redemptions_held')
  })
})
