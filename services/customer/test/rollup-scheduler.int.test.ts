import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { Redis } from 'iovalkey'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '@brewmesh/runtime/logger'
import { eventually } from '@brewmesh/testkit/env.ts'
import { pendingRollups, type PendingRollups } from '../src/jobs/pending-rollups.ts'
import { rollupScheduler, type StatsJob } from '../src/jobs/stats-rollup.ts'
import { customerEnv } from './support.ts'

// Marks and the sweep job on a real queue and hash on the test Valkey.

const env = customerEnv()
const prefix = `${env['VALKEY_KEY_PREFIX']}:customer`
let connection: Redis
let queue: Queue<StatsJob>
let key: string
let pending: PendingRollups
beforeAll(() => {
  connection = new Redis({ host: env['VALKEY_HOST'], port: Number(env['VALKEY_PORT']), maxRetriesPerRequest: null })
  queue = new Queue<StatsJob>(`rollups-${randomUUID()}`, { connection, prefix })
  key = `${prefix}:rollups-pending-${randomUUID()}`
  pending = pendingRollups(connection, key)
})
afterAll(async () => {
  await queue?.obliterate({ force: true })
  await queue?.close()
  await connection?.del(key)
  connection?.disconnect()
})

const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const marked = async () => Object.keys(await connection.hgetall(key)).sort()
const sweeps = async () => (await queue.getDelayed()).map((j) => j.name)

describe('the rollup scheduler', () => {
  it('marks a chunk of customers and queues one sweep for them all, however many chunks come within the window', async () => {
    const schedule = rollupScheduler(queue, pending, 60_000, () => true, log)
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()]
    await schedule([{ customerId: a }, { customerId: b }])
    await schedule([{ customerId: c }, { customerId: a }])
    expect(await marked()).toEqual([a, b, c].sort())
    expect(await sweeps()).toEqual(['rollups'])
    await queue.drain(true)
    await connection.del(key)
  })

  it('owes the rollups it could not queue while Valkey was away, and queues them once it is back', async () => {
    let up = false
    const schedule = rollupScheduler(queue, pending, 60_000, () => up, log, 100)
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()]
    await schedule([{ customerId: a }, { customerId: b }])
    expect(await marked()).toEqual([])
    expect(await sweeps()).toEqual([])

    // Back, and no event comes: the timer marks what is owed and queues the sweep.
    up = true
    await eventually(async () => expect(await marked()).toEqual([a, b].sort()))
    expect(await sweeps()).toEqual(['rollups'])

    // Away again; the next events after it is back take what is owed along.
    up = false
    await schedule([{ customerId: c }])
    up = true
    await schedule([{ customerId: a }])
    expect(await marked()).toEqual([a, b, c].sort())
    expect(await sweeps()).toEqual(['rollups'])
  })
})

describe('pending rollups', () => {
  it('a mark made while a sweep rolls a customer up keeps that customer owed; the served ones are forgotten', async () => {
    const own = pendingRollups(connection, `${key}-own`)
    const [a, b] = [randomUUID(), randomUUID()]
    await own.mark([a, b])
    const page = await own.scan('0')
    expect(page.cursor).toBe('0')
    expect(page.pending.map((p) => p.customerId).sort()).toEqual([a, b].sort())
    // An event for a arrives after the sweep read a's facts.
    await own.mark([a])
    await own.clear(page.pending)
    const left = await own.scan('0')
    expect(left.pending).toEqual([{ customerId: a, version: '2' }])
    await own.clear(left.pending)
    expect((await own.scan('0')).pending).toEqual([])
  })

  it('pages through more marks than a page holds and returns every one of them', async () => {
    const own = pendingRollups(connection, `${key}-many`, 50)
    const ids = Array.from({ length: 700 }, () => randomUUID())
    await own.mark(ids)
    const seen = new Set<string>()
    let cursor = '0'
    let pages = 0
    do {
      const page = await own.scan(cursor)
      cursor = page.cursor
      pages++
      for (const p of page.pending) seen.add(p.customerId)
    } while (cursor !== '0')
    expect(pages).toBeGreaterThan(1)
    expect([...seen].sort()).toEqual(ids.sort())
    await connection.del(`${key}-many`)
  })
})
