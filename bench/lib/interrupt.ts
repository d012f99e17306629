import { note } from './log.ts'

/** Ctrl-C or SIGTERM, turned into something a bench can wait on, so it still cleans up. */
export interface Interrupt {
  readonly signal: AbortSignal
  /** Resolves when interrupted: for races that clean up themselves afterwards. */
  readonly stopped: Promise<void>
  /** The promise, or a rejection after `ms` or when interrupted. */
  within<T>(promise: Promise<T>, ms: number, what: string): Promise<T>
}

/** Installs the SIGINT/SIGTERM handlers (once per bench process). */
export function interruptOnSignals(): Interrupt {
  const controller = new AbortController()
  const { signal } = controller
  const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.once(name, () => {
      note(`${name}: stopping, cleaning up`)
      controller.abort(new Error(`interrupted by ${name}`))
    })
  }
  const rejected = stopped.then((): never => {
    throw signal.reason as Error
  })
  rejected.catch(() => undefined)
  return {
    signal,
    stopped,
    async within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)),
      )
      try {
        return await Promise.race([promise, timeout, rejected])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
