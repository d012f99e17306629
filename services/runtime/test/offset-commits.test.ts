import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../src/logger.ts'
import { offsetCommits } from '../src/kafka/offset-commits.ts'

type Offsets = { topic: string; partition: number; offset: string }[]

const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })

describe('offset commits', () => {
  let commits: Offsets[]
  let fail = false
  const consumer = {
    commitOffsets: async (offsets: Offsets) => {
      if (fail) throw new Error('The group is rebalancing')
      commits.push(offsets)
    },
  }
  beforeEach(() => {
    commits = []
    fail = false
    vi.useFakeTimers()
  })
  afterEach(() => void vi.useRealTimers())

  it('when chunks are applied within one interval, then one commit carries the next offset of each partition', async () => {
    const c = offsetCommits(consumer, 1000, log)
    c.applied('orders', 0, '4')
    c.applied('orders', 0, '9')
    c.applied('orders', 1, '2')
    c.applied('loyalty', 0, '0')
    expect(commits).toEqual([])
    await vi.advanceTimersByTimeAsync(1000)
    expect(commits).toEqual([
      [
        { topic: 'orders', partition: 0, offset: '10' },
        { topic: 'orders', partition: 1, offset: '3' },
        { topic: 'loyalty', partition: 0, offset: '1' },
      ],
    ])
    await vi.advanceTimersByTimeAsync(5000)
    expect(commits).toHaveLength(1) // nothing new applied, nothing sent
    c.stop()
  })

  it('when the consumer stops, then flush commits what is pending at once', async () => {
    const c = offsetCommits(consumer, 1000, log)
    c.applied('orders', 2, '41')
    c.stop()
    await c.flush()
    expect(commits).toEqual([[{ topic: 'orders', partition: 2, offset: '42' }]])
  })

  it('when the group rebalanced, then the offsets applied before it are forgotten, not committed for a partition that may be gone', async () => {
    const c = offsetCommits(consumer, 1000, log)
    c.applied('orders', 0, '7')
    c.forget()
    c.applied('orders', 1, '3')
    await vi.advanceTimersByTimeAsync(1000)
    expect(commits).toEqual([[{ topic: 'orders', partition: 1, offset: '4' }]])
    c.stop()
  })

  it('when a commit fails, then it is not retried with stale offsets and later commits still go out', async () => {
    const c = offsetCommits(consumer, 1000, log)
    fail = true
    c.applied('orders', 0, '1')
    await vi.advanceTimersByTimeAsync(1000)
    fail = false
    c.applied('orders', 0, '5')
    await vi.advanceTimersByTimeAsync(1000)
    expect(commits).toEqual([[{ topic: 'orders', partition: 0, offset: '6' }]])
    c.stop()
  })

  it('when the interval is 0, then every applied chunk is committed at once', async () => {
    const c = offsetCommits(consumer, 0, log)
    c.applied('orders', 0, '1')
    c.applied('orders', 0, '2')
    await c.flush()
    expect(commits).toEqual([[{ topic: 'orders', partition: 0, offset: '2' }], [{ topic: 'orders', partition: 0, offset: '3' }]])
  })
})
