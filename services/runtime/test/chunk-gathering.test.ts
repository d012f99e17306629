import { describe, expect, it } from 'vitest'
import { chunkGathering } from '../src/kafka/chunk-gathering.ts'

describe('chunk gathering', () => {
  it('when chunks of one topic arrive in the same turn, then they are applied as one, and every caller waits for it', async () => {
    const applied: string[][] = []
    const gather = chunkGathering<string>(async (items) => void applied.push(items), 10)
    let done = 0
    const waits = [gather('orders', ['p0-1', 'p0-2']), gather('orders', ['p1-1']), gather('loyalty', ['p0-1'])].map((p) =>
      p.then(() => done++),
    )
    expect(done).toBe(0)
    await Promise.all(waits)
    expect(applied).toEqual([['p0-1', 'p0-2', 'p1-1'], ['p0-1']])
  })

  it('when a chunk would take a gathering past maxItems, then the gathering is applied as it is and the chunk starts the next', async () => {
    const applied: number[][] = []
    const gather = chunkGathering<number>(async (items) => void applied.push(items), 3)
    await Promise.all([gather('t', [1, 2]), gather('t', [3, 4]), gather('t', [5])])
    expect(applied).toEqual([
      [1, 2],
      [3, 4, 5],
    ])
  })

  it('when the apply fails, then every caller of that gathering gets its error, and the next gathering starts afresh', async () => {
    let fail = true
    const gather = chunkGathering<number>(async () => {
      if (fail) throw new Error('stopping')
    }, 10)
    const results = await Promise.allSettled([gather('t', [1]), gather('t', [2])])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    await expect(gather('t', [3])).resolves.toBeUndefined()
  })

  it('when a chunk is empty (all of it dead-lettered), then there is nothing to apply', async () => {
    let calls = 0
    const gather = chunkGathering<number>(async () => void calls++, 10)
    await gather('t', [])
    expect(calls).toBe(0)
  })
})
