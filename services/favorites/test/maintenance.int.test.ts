import { randomUUID } from 'node:crypto'
import { Queue, QueueEvents } from 'bullmq'
import { Redis } from 'iovalkey'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WatchFavoritesResponse } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { StreamReader } from '@brewmesh/testkit/grpc.ts'
import { MAINTENANCE_QUEUE } from '../src/jobs/maintenance.ts'
import { addFavorite, cleanup, favoritesEnv, MENU, startFavorites, type Running } from './support.ts'

const DAY = 86_400_000
let now = Date.now()
let svc: Running
let connection: Redis
let queue: Queue
let events: QueueEvents
const env = favoritesEnv()

beforeAll(async () => {
  svc = await startFavorites(env, { clock: () => new Date(now) })
  connection = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']), maxRetriesPerRequest: null })
  const prefix = `${env['VALKEY_KEY_PREFIX']}:favorites`
  queue = new Queue(MAINTENANCE_QUEUE, { connection, prefix })
  events = new QueueEvents(MAINTENANCE_QUEUE, { connection: connection.duplicate(), prefix })
  await events.waitUntilReady()
})
afterAll(async () => {
  await events?.close()
  await queue?.close()
  connection?.disconnect()
  await svc?.stop()
  await cleanup(env)
})

/** Runs one maintenance job through BullMQ, as the scheduler would, and returns its result. */
async function runJob() {
  const job = await queue.add('maintenance', {})
  return (await job.waitUntilFinished(events, 30_000)) as { tombstones: number; idempotencyKeys: number }
}

describe('the maintenance job', () => {
  it('is scheduled once, daily, in BullMQ on Valkey', async () => {
    const schedulers = await eventually(async () => {
      const list = await queue.getJobSchedulers()
      expect(list).toHaveLength(1)
      return list
    })
    expect(schedulers[0]).toMatchObject({ pattern: '27 3 * * *', tz: 'UTC' })
  })

  it('prunes tombstones after 30 days, after which a device is sent a snapshot instead of a replay', async () => {
    now = Date.now()
    const customerId = randomUUID()
    const a = await addFavorite(svc.client, customerId)
    await addFavorite(svc.client, customerId, { menuItemId: MENU.mocha })
    await svc.client.removeFavorite({ favoriteId: a.favoriteId, expectedRevision: '0' })

    now += 29 * DAY
    const early = await runJob()
    expect(early.tombstones).toBe(0)
    expect(early.idempotencyKeys).toBeGreaterThanOrEqual(2) // the two AddFavorite request ids, older than 7 days
    const replay = new StreamReader<WatchFavoritesResponse>(svc.client.watchFavorites({ customerId, sinceRevision: '1' }))
    expect((await replay.next()).event?.$case).toBe('change')

    now += 2 * DAY
    const result = await runJob()
    expect(result.tombstones).toBeGreaterThanOrEqual(1)
    const rows = await sqlQuery<{ pruned_through: number }>(env, `select pruned_through from customers where customer_id = '${customerId}'`)
    expect(rows[0]?.pruned_through).toBe(3)
    expect((await runJob()).tombstones).toBe(0) // idempotent
    const snapshot = new StreamReader<WatchFavoritesResponse>(svc.client.watchFavorites({ customerId, sinceRevision: '1' }))
    expect((await snapshot.next()).event).toMatchObject({ $case: 'snapshot', value: { revision: '3' } })
  })
})
