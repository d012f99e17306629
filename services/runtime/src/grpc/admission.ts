/**
 * Admission control: how many calls a service takes at once. Beyond its limit a call waits a
 * little for a slot (never past its own deadline) and is otherwise refused at once with
 * RESOURCE_EXHAUSTED and a RetryInfo, so overload is a fast answer at the front door instead of a
 * slow failure deep in the call chain (a pool wait, a dependency's timeout). Unary and
 * client-streaming calls share one limit; long-lived server-streaming and bidirectional calls
 * have their own, so ten thousand watchers never starve placing an order.
 *
 * The limit on calls adapts (AIMD on latency, as in Netflix's concurrency-limits): while calls
 * finish within the target latency and the limit is in use, it grows by one per limit's worth of
 * calls; when they take longer, it shrinks by a tenth, at most once per target period. A fixed
 * limit is either too low for an idle machine or, as measured under 1,000 callers, so high that
 * every admitted call waits seconds for a CPU shared with hundreds of others (Little's law).
 */
export interface AdmissionSettings {
  /** The most unary and client-streaming calls handled at once (the adaptive limit's ceiling). */
  maxInFlight: number
  /** Calls that may wait for a slot... */
  maxQueued: number
  /** ...and for how long at most. */
  maxQueueMs: number
  /** Server-streaming and bidirectional calls open at once. */
  maxStreams: number
  /** The RetryInfo delay a refused caller is given (jittered by up to half again). */
  retryAfterMs: number
  /** Calls slower than this shrink the limit; 0 keeps it fixed at maxInFlight. */
  targetLatencyMs: number
  /** The limit never goes below this. */
  minInFlight: number
}

/** A slot held by one call; release it once when the call ends (extra calls are harmless). */
export type Release = () => void

export type Admitted = { release: Release } | { refused: string }

interface Waiter {
  grant: (release: Release) => void
  timer: NodeJS.Timeout
}

/** How many calls a gate lets in at once, and what it learns from each finished call. */
export interface Limit {
  readonly current: number
  /** A call finished after `latencyMs`, with `inFlight` calls (itself included) in progress. */
  sample(latencyMs: number, inFlight: number): void
}

export const fixedLimit = (n: number): Limit => ({ current: n, sample: () => undefined })

/** Additive increase while calls meet the target, multiplicative decrease when they do not. */
export function adaptiveLimit(options: { initial: number; min: number; max: number; targetMs: number; now?: () => number }): Limit {
  const now = options.now ?? Date.now
  let limit = options.initial
  let lastDecrease = -Infinity
  return {
    get current() {
      return Math.floor(limit)
    },
    sample(latencyMs, inFlight) {
      if (latencyMs > options.targetMs) {
        if (now() - lastDecrease < options.targetMs) return
        lastDecrease = now()
        limit = Math.max(options.min, limit * 0.9)
      } else if (inFlight * 2 >= limit) {
        limit = Math.min(options.max, limit + 1 / limit)
      }
    },
  }
}

/** A counting gate with a bounded FIFO of waiters. */
export class Gate {
  private active = 0
  private readonly waiters: Waiter[] = []
  private readonly limit: Limit
  private readonly maxQueued: number
  private readonly now: () => number
  constructor(limit: number | Limit, maxQueued: number, now: () => number = Date.now) {
    this.limit = typeof limit === 'number' ? fixedLimit(limit) : limit
    this.maxQueued = maxQueued
    this.now = now
  }

  get inFlight(): number {
    return this.active
  }

  get queued(): number {
    return this.waiters.length
  }

  get currentLimit(): number {
    return this.limit.current
  }

  /** A slot now, a promise of one within waitMs, or undefined when neither can be had. */
  enter(waitMs: number): Release | Promise<Release | undefined> | undefined {
    if (this.active < this.limit.current) {
      this.active++
      return this.releaser()
    }
    if (waitMs <= 0 || this.waiters.length >= this.maxQueued) return undefined
    return new Promise((resolve) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          resolve(undefined)
        }, waitMs),
      }
      this.waiters.push(waiter)
    })
  }

  private releaser(): Release {
    const started = this.now()
    let released = false
    return () => {
      if (released) return
      released = true
      this.limit.sample(this.now() - started, this.active)
      // The slot passes straight to the oldest waiter while the limit still allows it.
      if (this.active <= this.limit.current) {
        const next = this.waiters.shift()
        if (next) {
          clearTimeout(next.timer)
          return next.grant(this.releaser())
        }
      }
      this.active--
    }
  }
}

/** The two gates of a server and how a call of either kind gets through them. */
export function createAdmission(settings: AdmissionSettings, now: () => number = Date.now) {
  const limit =
    settings.targetLatencyMs > 0
      ? adaptiveLimit({
          initial: Math.min(settings.maxInFlight, Math.max(settings.minInFlight, 20)),
          min: Math.min(settings.minInFlight, settings.maxInFlight),
          max: settings.maxInFlight,
          targetMs: settings.targetLatencyMs,
          now,
        })
      : fixedLimit(settings.maxInFlight)
  const calls = new Gate(limit, settings.maxQueued, now)
  const streams = new Gate(settings.maxStreams, 0, now)
  return {
    calls,
    streams,
    /**
     * Admits a call. `deadlineMs` is the caller's deadline (Infinity when none): a call is never
     * queued past it, since an answer after the deadline helps nobody.
     */
    admit(streaming: boolean, deadlineMs: number): Admitted | Promise<Admitted> {
      if (streaming) {
        const release = streams.enter(0) as Release | undefined
        return release ? { release } : { refused: `more than ${settings.maxStreams} streams are open` }
      }
      const waitMs = Math.min(settings.maxQueueMs, deadlineMs - now())
      const entered = calls.enter(waitMs)
      const refused = () => ({ refused: `${calls.currentLimit} calls are in progress, the most it takes now` })
      if (typeof entered === 'function') return { release: entered }
      if (!entered) return refused()
      return entered.then((release) => (release ? { release } : refused()))
    },
    /** How long a refused caller is asked to wait: the configured delay plus jitter, so retries spread out. */
    retryDelayMs: () => Math.round(settings.retryAfterMs * (1 + Math.random() / 2)),
  }
}

export type Admission = ReturnType<typeof createAdmission>
