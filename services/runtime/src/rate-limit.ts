import type { Meter } from '@opentelemetry/api'
import { describePrincipal, type Principal } from './auth/principal.ts'
import { resourceExhausted } from './errors.ts'
import type { Logger } from './logger.ts'
import type { Valkey } from './valkey.ts'

export interface RateLimitConfig {
  /** Writes allowed per caller per window; 0 turns limiting off. */
  limit: number
  windowSeconds: number
}

export type RateLimiter = (caller: Principal) => Promise<void>

/**
 * Counts a write in the caller's window (KEYS[1], one key per window) and answers the count; the
 * key expires ARGV[1] seconds after the window's first write. One command: as MULTI, INCR, EXPIRE
 * and EXEC it was four for the client to encode and Valkey to answer (31 to 35 µs of the service's
 * CPU a write against about 11 for this script, and 6.5 to 8 of Valkey's against 3 to 4;
 * bench/round-trips.bench.ts).
 */
const COUNT_WRITE = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`

/**
 * Per-caller write limits, counted in Valkey so every replica shares them (a fixed window per
 * caller, counted by COUNT_WRITE in one round trip). Over the limit: RESOURCE_EXHAUSTED with
 * RetryInfo saying when the window ends. Service identities are not limited here (their callers are), and
 * with Valkey down writes are let through: an outage of the limiter must not become one of the
 * service.
 */
export function createRateLimiter(options: {
  valkey: Valkey
  prefix: string
  service: string
  config: RateLimitConfig
  meter: Meter
  log: Logger
  clock?: () => number
}): RateLimiter {
  const { valkey, config } = options
  const clock = options.clock ?? Date.now
  const refused = options.meter.createCounter(`${options.service}_rate_limited`, {
    description: 'writes refused by the per-caller rate limit',
  })
  const bypassed = options.meter.createCounter(`${options.service}_rate_limit_bypassed`, {
    description: 'writes let through because Valkey was unavailable',
  })
  return async (caller) => {
    if (config.limit <= 0 || caller.kind === 'service') return
    const windowMs = config.windowSeconds * 1000
    const now = clock()
    const window = Math.floor(now / windowMs)
    const key = `${options.prefix}ratelimit:${describePrincipal(caller)}:${window}`
    let count: number
    try {
      count = Number(await valkey.eval(COUNT_WRITE, 1, key, config.windowSeconds * 2))
    } catch (err) {
      bypassed.add(1)
      options.log.debug({ err: (err as Error).message }, 'rate limit bypassed')
      return
    }
    if (count > config.limit) {
      refused.add(1)
      const retryDelayMs = (window + 1) * windowMs - now
      throw resourceExhausted(
        `at most ${config.limit} writes per ${config.windowSeconds} s per caller; retry in ${Math.ceil(retryDelayMs / 1000)} s`,
        retryDelayMs,
      )
    }
  }
}
