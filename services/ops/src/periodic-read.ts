import type { Logger } from '@brewmesh/runtime/logger'

/** What a scrape serves: taken from the latest read, never waiting for one. */
export interface ReadState<T> {
  /**
   * False until a read succeeds, when the latest read failed or took longer than its budget, and
   * while the read in progress has run past it.
   */
  up: boolean
  /** Seconds since the latest successful read began; undefined before the first. */
  ageSeconds: number | undefined
  /** What that read returned. */
  value: T | undefined
}

export interface PeriodicRead<T> {
  state(): ReadState<T>
  /** Ends the loop; a read in flight is left to finish on its own, and ignored. */
  stop(): void
}

/**
 * Runs `read` in the background, one at a time: the first at once, each next `intervalMs` after
 * the previous one ended. A read is never abandoned for a new one, so a slow broker is not asked
 * again while it is still answering (kafkajs' request timeouts and retries bound how long a read
 * can last); `budgetMs` only decides when a read in progress stops counting as up.
 */
export function startPeriodicRead<T>(options: {
  read: () => Promise<T>
  intervalMs: number
  budgetMs: number
  log: Logger
}): PeriodicRead<T> {
  const { read, log } = options
  let latest: { value: T; startedAt: number } | undefined
  let reading: { startedAt: number } | undefined
  let lastFailed = true
  let failing = false
  let stopped = false
  let wake: (() => void) | undefined

  const report = (err: unknown) => {
    if (!failing) log.warn({ err: (err as Error).message }, 'cannot read consumer lag and dead letters from Kafka')
    failing = true
  }

  const loop = async () => {
    while (!stopped) {
      const startedAt = Date.now()
      reading = { startedAt }
      const overrun = setTimeout(() => report(new Error(`no answer in ${options.budgetMs} ms`)), options.budgetMs).unref()
      try {
        const value = await read()
        if (stopped) return
        latest = { value, startedAt }
        lastFailed = Date.now() - startedAt > options.budgetMs
        if (!lastFailed && failing) log.info('Kafka answers again')
        failing = lastFailed
      } catch (err) {
        if (stopped) return
        lastFailed = true
        report(err)
      } finally {
        clearTimeout(overrun)
        reading = undefined
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.intervalMs)
        wake = () => (clearTimeout(timer), resolve())
      })
    }
  }
  void loop()

  return {
    state() {
      const at = Date.now()
      const overrunning = reading !== undefined && at - reading.startedAt > options.budgetMs
      return {
        up: latest !== undefined && !lastFailed && !overrunning,
        ageSeconds: latest && (at - latest.startedAt) / 1000,
        value: latest?.value,
      }
    },
    stop() {
      stopped = true
      wake?.()
    },
  }
}
