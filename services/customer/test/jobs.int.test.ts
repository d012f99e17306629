import { Queue } from 'bullmq'
import { Redis } from 'iovalkey'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase } from '@brewmesh/runtime/db/postgres.ts'
import { createLogger } from '@brewmesh/runtime/logger'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { purgeOutbox } from '@brewmesh/runtime/db/outbox.ts'
import { cleanup, createCustomer, customerEnv, startCustomer, type Running } from './support.ts'

let svc: Running
const env = customerEnv({ OUTBOX_RETENTION_DAYS: '7' })
beforeAll(async () => {
  svc = await startCustomer(env)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

describe('the outbox purge job', () => {
  it('is scheduled once in BullMQ on Valkey, however many replicas start', async () => {
    const second = await startCustomer({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-2` }, { migrate: false, waitForFeed: false })
    const connection = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']), maxRetriesPerRequest: null })
    // runtime's outbox purge, named after the service
    const queue = new Queue('customer-outbox-purge', { connection: connection, prefix: `${env['VALKEY_KEY_PREFIX']}:customer` })
    try {
      const schedulers = await eventually(async () => {
        const list = await queue.getJobSchedulers()
        expect(list).toHaveLength(1)
        return list
      })
      expect(schedulers[0]).toMatchObject({ key: 'outbox-purge-daily', pattern: '17 3 * * *', tz: 'UTC' })
    } finally {
      await queue.close()
      connection.disconnect()
      await second.stop()
    }
  })

  it('deletes only published rows older than the retention, and a second run for the same day deletes nothing', async () => {
    await createCustomer(svc.client)
    await eventually(async () =>
      expect(Number((await sqlQuery<{ n: string }>(env, 'select count(*) as n from outbox where published_at is null'))[0]!.n)).toBe(0),
    )
    await sqlQuery(env, "update outbox set published_at = now() - interval '8 days'")
    await createCustomer(svc.client) // recent: must survive
    await sqlQuery(
      env,
      "insert into processed_events (consumer, event_id, processed_at) values ('test', 'old', now() - interval '30 days')",
    )

    const database = createDatabase(svc.config.postgres, createLogger({ level: 'silent', service: 'test', instanceId: 'test' }))
    try {
      const first = await purgeOutbox(database.db, 7, new Date())
      expect(first.outboxRows).toBeGreaterThanOrEqual(1)
      expect(first.processedEvents).toBe(1)
      const remaining = await sql<{ n: string }>`select count(*) as n from outbox`.execute(database.db)
      expect(Number(remaining.rows[0]!.n)).toBe(1)
      expect(await purgeOutbox(database.db, 7, new Date())).toEqual({ outboxRows: 0, processedEvents: 0 })
    } finally {
      await database.stop()
    }
  })
})
