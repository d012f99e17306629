import type { Meter } from '@opentelemetry/api'
import type { Logger } from './logger.ts'
import type { Valkey } from './valkey.ts'

/** Cache-aside over Valkey that never fails a request: errors count as misses and are bypassed. */
export interface ByteCache {
  get(key: string): Promise<Buffer | undefined>
  set(key: string, value: Buffer): Promise<void>
  delete(key: string): Promise<void>
}

export function createByteCache(options: {
  valkey: Valkey
  prefix: string
  ttlSeconds: number
  service: string
  meter: Meter
  log: Logger
}): ByteCache {
  const { valkey, prefix, ttlSeconds, log } = options
  const hits = options.meter.createCounter(`${options.service}_cache_hits`, { description: 'cache reads answered by Valkey' })
  const misses = options.meter.createCounter(`${options.service}_cache_misses`, { description: 'cache reads that went to PostgreSQL' })
  const errors = options.meter.createCounter(`${options.service}_cache_errors`, {
    description: 'cache operations bypassed because Valkey failed',
  })
  const bypass = (op: string, err: unknown) => {
    errors.add(1, { op })
    log.debug({ op, err: (err as Error).message }, 'cache bypassed')
  }
  return {
    async get(key) {
      try {
        const value = await valkey.getBuffer(prefix + key)
        if (value) {
          hits.add(1)
          return value
        }
      } catch (err) {
        bypass('get', err)
      }
      misses.add(1)
      return undefined
    },
    async set(key, value) {
      try {
        await valkey.set(prefix + key, value, 'EX', ttlSeconds)
      } catch (err) {
        bypass('set', err)
      }
    },
    async delete(key) {
      try {
        await valkey.del(prefix + key)
      } catch (err) {
        bypass('delete', err)
      }
    },
  }
}

/**
 * A value read at most once per `ttlMs` and kept in this process (reference data that only a
 * migration or an operator changes: the menu, the rewards catalog). Concurrent readers share one
 * read; a failed read is not kept.
 */
export function snapshot<T>(read: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  let current: { value: T; readAt: number } | undefined
  let reading: Promise<T> | undefined
  return async () => {
    if (current && now() - current.readAt < ttlMs) return current.value
    reading ??= read()
      .then((value) => {
        current = { value, readAt: now() }
        return value
      })
      .finally(() => (reading = undefined))
    return reading
  }
}
