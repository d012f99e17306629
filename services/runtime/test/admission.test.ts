import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { adaptiveLimit, createAdmission, Gate, type Release } from '../src/grpc/admission.ts'

const settings = { maxInFlight: 2, maxQueued: 1, maxQueueMs: 100, maxStreams: 1, retryAfterMs: 200, targetLatencyMs: 0, minInFlight: 1 }

describe('admission', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('when slots are free, then a call is admitted at once', () => {
    const gate = new Gate(2, 0)
    expect(typeof gate.enter(0)).toBe('function')
    expect(typeof gate.enter(0)).toBe('function')
    expect(gate.inFlight).toBe(2)
  })

  it('when every slot is taken and nothing may wait, then the call is refused at once', () => {
    const gate = new Gate(1, 0)
    void gate.enter(0)
    expect(gate.enter(100)).toBeUndefined()
  })

  it('when a slot is released, then the oldest waiter gets it and the count stays the same', async () => {
    const gate = new Gate(1, 2)
    const first = gate.enter(0) as Release
    const second = gate.enter(100) as Promise<Release | undefined>
    const third = gate.enter(100) as Promise<Release | undefined>
    expect(gate.queued).toBe(2)
    first()
    const granted = await second
    expect(granted).toBeTypeOf('function')
    expect(gate.inFlight).toBe(1)
    expect(gate.queued).toBe(1)
    granted!()
    expect(await third).toBeTypeOf('function')
  })

  it('when a waiter waits longer than it may, then it is refused and leaves the queue', async () => {
    const gate = new Gate(1, 1)
    void gate.enter(0)
    const waiting = gate.enter(50) as Promise<Release | undefined>
    await vi.advanceTimersByTimeAsync(51)
    expect(await waiting).toBeUndefined()
    expect(gate.queued).toBe(0)
  })

  it('when the queue is full, then the next call is refused at once', () => {
    const gate = new Gate(1, 1)
    void gate.enter(0)
    void gate.enter(100)
    expect(gate.enter(100)).toBeUndefined()
  })

  it('when a slot is released twice, then only one slot is freed', () => {
    const gate = new Gate(2, 0)
    const release = gate.enter(0) as Release
    void gate.enter(0)
    release()
    release()
    expect(gate.inFlight).toBe(1)
  })

  it('when the caller deadline is nearer than the queue limit, then the call waits only until its deadline', async () => {
    const now = Date.now()
    const admission = createAdmission(settings, () => now)
    void admission.admit(false, Infinity)
    void admission.admit(false, Infinity)
    expect(admission.admit(false, now)).toEqual({ refused: '2 calls are in progress, the most it takes now' })
    const waiting = admission.admit(false, now + 10)
    await vi.advanceTimersByTimeAsync(11)
    expect(await waiting).toEqual({ refused: '2 calls are in progress, the most it takes now' })
  })

  it('when streams are at their bound, then calls still get through and another stream is refused', () => {
    const admission = createAdmission(settings)
    expect(admission.admit(true, Infinity)).toHaveProperty('release')
    expect(admission.admit(true, Infinity)).toEqual({ refused: 'more than 1 streams are open' })
    expect(admission.admit(false, Infinity)).toHaveProperty('release')
  })

  it('when a caller is refused, then it is asked to wait the configured delay plus at most half again', () => {
    const admission = createAdmission(settings)
    for (let i = 0; i < 50; i++) {
      const delay = admission.retryDelayMs()
      expect(delay).toBeGreaterThanOrEqual(200)
      expect(delay).toBeLessThanOrEqual(300)
    }
  })

  it('when calls finish within the target while the limit is in use, then the limit grows by about one per limit of calls', () => {
    const limit = adaptiveLimit({ initial: 10, min: 2, max: 100, targetMs: 100, now: () => 0 })
    for (let i = 0; i < 10; i++) limit.sample(50, 10)
    expect(limit.current).toBe(10)
    for (let i = 0; i < 10; i++) limit.sample(50, 10)
    expect(limit.current).toBe(11)
  })

  it('when the limit is hardly used, then fast calls do not grow it', () => {
    const limit = adaptiveLimit({ initial: 10, min: 2, max: 100, targetMs: 100, now: () => 0 })
    for (let i = 0; i < 100; i++) limit.sample(5, 2)
    expect(limit.current).toBe(10)
  })

  it('when calls are slower than the target, then the limit shrinks by a tenth, once per target period, never below the minimum', () => {
    let now = 0
    const limit = adaptiveLimit({ initial: 20, min: 15, max: 100, targetMs: 100, now: () => now })
    limit.sample(500, 20)
    limit.sample(500, 20) // same period: no second decrease
    expect(limit.current).toBe(18)
    now = 100
    limit.sample(500, 20)
    expect(limit.current).toBe(16)
    now = 200
    limit.sample(500, 20)
    expect(limit.current).toBe(15)
  })

  it('when the limit shrinks below the calls in flight, then a finished call frees no slot for a waiter', async () => {
    let now = 0
    const limit = adaptiveLimit({ initial: 2, min: 1, max: 2, targetMs: 100, now: () => now })
    const gate = new Gate(limit, 1, () => now)
    const a = gate.enter(0) as Release
    const b = gate.enter(0) as Release
    const waiting = gate.enter(1000) as Promise<Release | undefined>
    now = 500 // slow: the limit drops to 1
    a()
    expect(gate.inFlight).toBe(1)
    expect(gate.queued).toBe(1)
    b()
    expect(await waiting).toBeTypeOf('function')
  })
})
