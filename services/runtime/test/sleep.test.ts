import { getEventListeners } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { sleep } from '../src/lifecycle.ts'

describe('sleep', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('when a loop sleeps many times on one long-lived signal, then no abort listener is left behind', async () => {
    const signal = new AbortController().signal
    for (let i = 0; i < 100; i++) {
      const slept = sleep(10, signal)
      await vi.advanceTimersByTimeAsync(10)
      await slept
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })

  it('when the signal aborts, then the sleep ends at once', async () => {
    const controller = new AbortController()
    const slept = sleep(60_000, controller.signal)
    controller.abort()
    await expect(slept).resolves.toBeUndefined()
    expect(vi.getTimerCount()).toBe(0)
  })
})
