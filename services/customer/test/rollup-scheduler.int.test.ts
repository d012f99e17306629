import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { Redis } from 'iovalkey'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '@brewmesh/runtime/logger'
import { eventually } from '@brewmesh/testkit/env.ts'
import { rollupScheduler, type StatsJob } from '../src/jobs/stats-rollup.ts'
import { customerEnv } from './support.ts'

// The rollups of events consumed while Valkey is away (runtime's jobsUp() false): owed, and queued
// once it is back, whether or not more events come. A real queue on the test Valkey.

const env = customerEnv()
let connection: Redis
let queue: Queue<StatsJob>
beforeAll(() => {
  connection = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']), maxRetriesPerRequest: null })
  queue = new Queue<StatsJob>(`rollups-${randomUUID()}`, { connection, prefix: `${env['VALKEY_KEY_PREFIX']}:customer` })
})
afterAll(async () => {
  await queue?.obliterate({ force: true })
  await queue?.close()
  connection?.disconnect()
})

const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const queuedFor = async () => (await queue.getDelayed()).map((j) => (j.data as { customerId: string }).customerId).sort()

describe('the rollup scheduler', () => {
  it('owes the rollups it could not queue while Valkey was away, and queues them once it is back', async () => {
    let up = false
    const schedule = rollupScheduler(queue, 60_000, () => up, log, 100)
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()]
    await schedule([{ customerId: a }, { customerId: b }])
    expect(await queuedFor()).toEqual([])

    // Back, and no event comes: the timer queues what is owed.
    up = true
    await eventually(async () => expect(await queuedFor()).toEqual([a, b].sort()))

    // Away again; the next events after it is back take what is owed along.
    up = false
    await schedule([{ customerId: c }])
    up = true
    await schedule([{ customerId: a }])
    expect(await queuedFor()).toEqual([a, b, c].sort()) // a once: the same customer's rollups are one job
  })
})
