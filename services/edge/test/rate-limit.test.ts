import { describe, expect, it } from 'vitest'
import { createRateLimiter } from '../src/rate-limit.ts'

describe('the per-client rate limit', () => {
  it('lets a burst through, then refuses with the wait until the next token, and refills over time', () => {
    let now = 0
    const limiter = createRateLimiter({ perSecond: 2, burst: 3, clock: () => now })
    expect([1, 2, 3].map(() => limiter.take('10.0.0.1').allowed)).toEqual([true, true, true])
    expect(limiter.take('10.0.0.1')).toEqual({ allowed: false, retryAfterMs: 500 })
    now += 500
    expect(limiter.take('10.0.0.1').allowed).toBe(true)
    expect(limiter.take('10.0.0.1').allowed).toBe(false)
  })

  it('keeps each client address apart', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, clock: () => 0 })
    expect(limiter.take('10.0.0.1').allowed).toBe(true)
    expect(limiter.take('10.0.0.1').allowed).toBe(false)
    expect(limiter.take('10.0.0.2').allowed).toBe(true)
  })

  it('is off at 0 calls per second', () => {
    const limiter = createRateLimiter({ perSecond: 0, burst: 1, clock: () => 0 })
    expect(Array.from({ length: 10 }, () => limiter.take('10.0.0.1').allowed).every(Boolean)).toBe(true)
  })
})
