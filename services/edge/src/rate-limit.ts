/** The outcome of asking for one call: let through, or wait this long before the next try. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number }

export interface RateLimiter {
  take(client: string): RateDecision
}

const MAX_CLIENTS = 100_000

/**
 * A token bucket per client address, in this replica's memory: `perSecond` calls a second on
 * average, bursts up to `burst`. It protects the mesh from one noisy address; the services keep
 * their own per-caller write limits (shared in Valkey) and admission control behind it. Buckets
 * of clients not seen for a while are dropped first when the table is full.
 */
export function createRateLimiter(options: { perSecond: number; burst: number; clock?: () => number }): RateLimiter {
  const { perSecond, burst } = options
  const clock = options.clock ?? Date.now
  const buckets = new Map<string, { tokens: number; at: number }>()
  return {
    take(client) {
      if (perSecond <= 0) return { allowed: true }
      const now = clock()
      const bucket = buckets.get(client) ?? { tokens: burst, at: now }
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond)
      bucket.at = now
      // Re-inserting keeps the map in least-recently-seen order, so eviction takes the stalest.
      buckets.delete(client)
      if (buckets.size >= MAX_CLIENTS) buckets.delete(buckets.keys().next().value!)
      buckets.set(client, bucket)
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return { allowed: true }
      }
      return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / perSecond) * 1000) }
    },
  }
}
