import { describe, expect, it } from 'vitest'
import { mapBounded } from '../src/bounded.ts'

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('mapBounded', () => {
  it('when there are more items than the limit, then no more than the limit run at once and results keep the order of the items', async () => {
    let running = 0
    let most = 0
    const results = await mapBounded([5, 4, 3, 2, 1, 0, 9, 8], 3, async (n) => {
      most = Math.max(most, ++running)
      for (let i = 0; i < n; i++) await tick()
      running--
      return n * 10
    })
    expect(most).toBe(3)
    expect(results).toEqual([50, 40, 30, 20, 10, 0, 90, 80])
  })

  it('when an item fails, then the whole fails and no further item starts', async () => {
    const started: number[] = []
    const run = mapBounded([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n)
      await tick()
      if (n === 2) throw new Error('no answer')
      return n
    })
    await expect(run).rejects.toThrow('no answer')
    expect(started).toEqual([1, 2, 3])
  })
})
