import { describe, expect, it } from 'vitest'
import { coalesce } from '../src/jobs/coalesce.ts'

/** A batch function that records its batches and answers when told to. */
function controlledBatch() {
  const batches: string[][] = []
  const pending: { keys: string[]; answer: () => void; fail: (err: Error) => void }[] = []
  const batch = (keys: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(keys)
      pending.push({ keys, answer: () => resolve(keys.map((k) => `stats of ${k}`)), fail: reject })
    })
  return { batch, batches, pending }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('coalesce (the rollup micro-batcher)', () => {
  it('runs calls made together as one batch, each caller getting its own answer', async () => {
    const { batch, batches, pending } = controlledBatch()
    const rollup = coalesce(batch)
    const answers = Promise.all([rollup('a'), rollup('b'), rollup('a')])
    await nextTurn()
    pending[0]!.answer()
    expect(await answers).toEqual(['stats of a', 'stats of b', 'stats of a'])
    expect(batches).toEqual([['a', 'b']])
  })

  it('keeps calls made while a batch runs for the next batch, so they read after they asked', async () => {
    const { batch, batches, pending } = controlledBatch()
    const rollup = coalesce(batch)
    const first = rollup('a')
    await nextTurn()
    const during = [rollup('a'), rollup('c')]
    await nextTurn()
    expect(batches).toEqual([['a']]) // the second waits for the first to finish
    pending[0]!.answer()
    await first
    await nextTurn()
    expect(batches).toEqual([['a'], ['a', 'c']])
    pending[1]!.answer()
    expect(await Promise.all(during)).toEqual(['stats of a', 'stats of c'])
  })

  it('fails only the callers of a failed batch; the next batch runs', async () => {
    const { batch, pending } = controlledBatch()
    const rollup = coalesce(batch)
    const failed = rollup('a')
    await nextTurn()
    const later = rollup('b')
    pending[0]!.fail(new Error('database gone'))
    await expect(failed).rejects.toThrow('database gone')
    await nextTurn()
    pending[1]!.answer()
    expect(await later).toBe('stats of b')
  })
})
