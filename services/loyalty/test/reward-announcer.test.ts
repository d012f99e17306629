import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '@brewmesh/runtime/logger'
import type { Crossing } from '../src/domain/ports.ts'
import { ANNOUNCE_TIMEOUT_MS, announceCrossings, crossingJobId } from '../src/jobs/reward-available.ts'

const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const crossing: Crossing = { customerId: 'c1', rewardId: 'r1', entryId: 'e1' }

afterEach(() => vi.useRealTimers())

describe('announcing reward crossings after a change committed', () => {
  it('queues one job per crossing, with the deterministic id that makes a duplicate one job', async () => {
    const addBulk = vi.fn(async () => [])
    await announceCrossings({ addBulk }, () => true, log)([crossing])
    expect(addBulk).toHaveBeenCalledWith([{ name: 'reward-available', data: crossing, opts: { jobId: crossingJobId(crossing) } }])
  })

  it('does not even try while BullMQ has no connection (it would wait for Valkey), and does not fail the change', async () => {
    const addBulk = vi.fn(() => new Promise<never>(() => undefined))
    await expect(announceCrossings({ addBulk }, () => false, log)([crossing])).resolves.toBeUndefined()
    expect(addBulk).not.toHaveBeenCalled()
  })

  it('gives a Valkey that does not answer its timeout, then drops the announcement instead of failing the change', async () => {
    vi.useFakeTimers()
    const addBulk = vi.fn(() => new Promise<never>(() => undefined))
    let settled = false
    const announcing = announceCrossings({ addBulk }, () => true, log)([crossing]).then(() => (settled = true))
    await vi.advanceTimersByTimeAsync(ANNOUNCE_TIMEOUT_MS - 1)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await announcing
    expect(settled).toBe(true)
  })

  it('drops an announcement Valkey refuses, without failing the change', async () => {
    const addBulk = vi.fn(async () => Promise.reject(new Error('connection closed')))
    await expect(announceCrossings({ addBulk }, () => true, log)([crossing])).resolves.toBeUndefined()
  })
})
