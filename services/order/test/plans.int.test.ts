import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, type Database } from '@brewmesh/runtime/db'
import { createLogger } from '@brewmesh/runtime/logger'
import { genericPlanScans, sqlQuery, statementRecorder, type PlanScan } from '@brewmesh/testkit/env.ts'
import { cleanupEnv, testEnv } from '@brewmesh/testkit/service.ts'
import { testIssuer } from '@brewmesh/testkit/tokens.ts'
import { migrateOrder } from '../src/app.ts'
import { readConfig } from '../src/config.ts'
import { orderStore } from '../src/db/order-store.ts'
import type { OrderDb } from '../src/db/schema.ts'
import type { OrderStore } from '../src/domain/ports.ts'

// The due payments and the barista queue are read through partial indexes (orders_pending_payment,
// orders_queue). The services run each statement with parameters as a named prepared statement,
// and PostgreSQL may keep one generic plan for it, made without the values: such a plan can use a
// partial index only when the statement's text implies the index's predicate. These tests read the
// generic plans on a table of 20,000 orders.
const env = testEnv('order')
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
let database: Database<OrderDb>
let store: OrderStore
let recorder: ReturnType<typeof statementRecorder>

beforeAll(async () => {
  const config = readConfig({ ...env, ...(await testIssuer()).env, SERVICE_TOKEN_FILE: '/dev/null' })
  await migrateOrder(config, log)
  database = createDatabase<OrderDb>(config.postgres, log)
  recorder = statementRecorder(database.pool)
  store = orderStore(database.db, config.postgres.schema, () => ({ topic: 'order-test', key: '', payload: new Uint8Array(), headers: {} }))
  // Most orders answered and collected long ago; a few pending payment, a few queued.
  await sqlQuery(
    env,
    `insert into orders (id, customer_id, status, placed_at, paid_at, payment_status, version, doc, request_id, request_hash)
     select gen_random_uuid(), gen_random_uuid(), case when g % 100 = 0 then 2 else 5 end, now() - interval '1 hour', now(),
            case when g % 200 = 1 then 1 else 2 end, 1, '{}', 'request-' || g, 'hash'
       from generate_series(1, 20000) g`,
  )
  await sqlQuery(env, 'analyze orders')
})
afterAll(async () => {
  await database?.stop()
  await cleanupEnv(env)
})

/** The generic plan's scans of the one statement `work` sends with parameters. */
async function planOf(work: () => Promise<unknown>): Promise<PlanScan[]> {
  const sent = (await recorder.during(work)).filter((s) => s.values.length > 0)
  expect(sent).toHaveLength(1)
  return genericPlanScans(env, sent[0]!.text, sent[0]!.values)
}

const indexes = (scans: PlanScan[]) => scans.flatMap((s) => (s.index ? [s.index] : []))

describe('the generic plans of the statements partial indexes serve', () => {
  it('when payments are due, then the round reads them through orders_pending_payment', async () => {
    const scans = await planOf(() => store.transaction((tx) => tx.duePayments(new Date(), 100)))

    expect(indexes(scans)).toContain('orders_pending_payment')
    expect(scans.filter((s) => s.node === 'Seq Scan')).toEqual([])
  })

  it('when a barista asks for the queue, then it is read through orders_queue', async () => {
    const scans = await planOf(() => store.queue(20))

    expect(indexes(scans)).toContain('orders_queue')
    expect(scans.filter((s) => s.node === 'Seq Scan')).toEqual([])
  })
})
