import { describe, expect, it } from 'vitest'
import { snapshot } from '../src/cache.ts'

describe('a snapshot of reference data', () => {
  it('is read once per period, shared by concurrent readers, and read again after the period', async () => {
    let now = 0
    let reads = 0
    const menu = snapshot(
      async () => ++reads,
      1000,
      () => now,
    )
    expect(await Promise.all([menu(), menu(), menu()])).toEqual([1, 1, 1])
    now = 999
    expect(await menu()).toBe(1)
    now = 1000
    expect(await menu()).toBe(2)
  })

  it('keeps no failed read: the next reader tries again', async () => {
    let fail = true
    const menu = snapshot(async () => {
      if (fail) throw new Error('database away')
      return 'menu'
    }, 1000)
    await expect(menu()).rejects.toThrow('database away')
    fail = false
    expect(await menu()).toBe('menu')
  })
})
