/**
 * Admission control: how many calls a service takes at once. Beyond its bound a call waits a
 * little for a slot (never past its own deadline) and is otherwise refused at once with
 * RESOURCE_EXHAUSTED and a RetryInfo, so overload is a fast answer at the front door instead of a
 * slow failure deep in the call chain (a pool wait, a dependency's timeout). Unary and
 * client-streaming calls share one bound; long-lived server-streaming and bidirectional calls
 * have their own, so ten thousand watchers never starve placing an order.
 */
export interface AdmissionSettings {
  /** Unary and client-streaming calls handled at once. */
  maxInFlight: number
  /** Calls that may wait for a slot... */
  maxQueued: number
  /** ...and for how long at most. */
  maxQueueMs: number
  /** Server-streaming and bidirectional calls open at once. */
  maxStreams: number
  /** The RetryInfo delay a refused caller is given (jittered by up to half again). */
  retryAfterMs: number
}

/** A slot held by one call; release it once when the call ends (extra calls are harmless). */
export type Release = () => void

export type Admitted = { release: Release } | { refused: string }

interface Waiter {
  grant: (release: Release) => void
  timer: NodeJS.Timeout
}

/** A counting gate with a bounded FIFO of waiters. */
export class Gate {
  private active = 0
  private readonly waiters: Waiter[] = []
  private readonly limit: number
  private readonly maxQueued: number
  constructor(limit: number, maxQueued: number) {
    this.limit = limit
    this.maxQueued = maxQueued
  }

  get inFlight(): number {
    return this.active
  }

  get queued(): number {
    return this.waiters.length
  }

  /** A slot now, a promise of one within waitMs, or undefined when neither can be had. */
  enter(waitMs: number): Release | Promise<Release | undefined> | undefined {
    if (this.active < this.limit) {
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
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiters.shift()
      if (!next) {
        this.active--
        return
      }
      // The slot passes straight to the oldest waiter: the count stays the same.
      clearTimeout(next.timer)
      next.grant(this.releaser())
    }
  }
}

/** The two gates of a server and how a call of either kind gets through them. */
export function createAdmission(settings: AdmissionSettings, now: () => number = Date.now) {
  const calls = new Gate(settings.maxInFlight, settings.maxQueued)
  const streams = new Gate(settings.maxStreams, 0)
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
      const refused = { refused: `more than ${settings.maxInFlight} calls are in progress` }
      if (typeof entered === 'function') return { release: entered }
      if (!entered) return refused
      return entered.then((release) => (release ? { release } : refused))
    },
    /** How long a refused caller is asked to wait: the configured delay plus jitter, so retries spread out. */
    retryDelayMs: () => Math.round(settings.retryAfterMs * (1 + Math.random() / 2)),
  }
}

export type Admission = ReturnType<typeof createAdmission>
