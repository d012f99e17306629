import type { Logger } from './logger.ts'

/** Something that must be released at shutdown. */
export interface Stoppable {
  name: string
  stop(): Promise<void>
}

/**
 * Stops parts in the reverse order of construction, logging (not throwing) each failure. A part
 * that hangs (a client waiting for a server that is gone) is given up on after partTimeoutMs.
 */
export function stopInReverse(log: Logger, parts: Stoppable[], partTimeoutMs = 5000): () => Promise<void> {
  let stopping: Promise<void> | undefined
  return () => {
    stopping ??= (async () => {
      for (const part of [...parts].reverse()) {
        let timer: NodeJS.Timeout | undefined
        try {
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`did not stop within ${partTimeoutMs} ms`)), partTimeoutMs)
          })
          await Promise.race([part.stop(), timeout])
          log.debug({ part: part.name }, 'stopped')
        } catch (err) {
          log.error({ err, part: part.name }, 'stop failed')
        } finally {
          clearTimeout(timer)
        }
      }
    })()
    return stopping
  }
}

/** Parts stopped at the same time (consumers, workers): one waits for the slowest, not for the sum. */
export function together(name: string, parts: readonly Stoppable[]): Stoppable {
  return {
    name,
    stop: async () => {
      const failed = (await Promise.allSettled(parts.map((p) => p.stop()))).flatMap((r, i) =>
        r.status === 'rejected' ? [`${parts[i]!.name}: ${(r.reason as Error)?.message ?? String(r.reason)}`] : [],
      )
      if (failed.length > 0) throw new Error(failed.join('; '))
    },
  }
}

/** A value made on first use and shared; a failed attempt is forgotten, so the next use tries again. */
export function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined
  return () =>
    (pending ??= make().catch((err: unknown) => {
      pending = undefined
      throw err
    }))
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve()
    // The listener goes with the timer: a loop sleeping on a long-lived signal must not pile them
    // up (each one kept, and EventTarget scans them all on every add).
    const abort = () => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', abort, { once: true })
  })

/**
 * Runs `attempt` until it succeeds or `signal` aborts, backing off between failures. For
 * connections that must not block start-up (Kafka, Valkey-backed schedulers): the service
 * answers meanwhile, health reports the dependency down, and it recovers by itself.
 */
export async function keepTrying(name: string, attempt: () => Promise<void>, signal: AbortSignal, log: Logger): Promise<boolean> {
  let backoff = 250
  for (let tries = 1; !signal.aborted; tries++) {
    try {
      await attempt()
      if (tries > 1) log.info({ part: name, tries }, 'started after retries')
      return true
    } catch (err) {
      log.warn({ part: name, err: (err as Error).message, retryInMs: backoff }, 'could not start yet, retrying')
      await sleep(backoff, signal)
      backoff = Math.min(backoff * 2, 5000)
    }
  }
  return false
}

/** Rejects when `work` has not settled within ms (the work itself goes on): for clients that would wait forever. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}
