import type { Valkey } from '@brewmesh/runtime/valkey'

/** A customer owed a rollup, at the version of its last mark. */
export interface PendingRollup {
  customerId: string
  version: string
}

/** The customers owed a rollup, kept in Valkey so every replica's sweep sees every replica's marks. */
export interface PendingRollups {
  /** Marks customers as owed a rollup (one round trip for all of them). */
  mark(customerIds: readonly string[]): Promise<void>
  /** Pages through the marked customers; call with '0' first, stop when it returns '0' again. */
  scan(cursor: string): Promise<{ cursor: string; pending: PendingRollup[] }>
  /** Forgets the marks a rollup has served: a customer marked again since (a newer version) stays. */
  clear(served: readonly PendingRollup[]): Promise<void>
}

// A mark is a counter per customer in one hash: each mark raises the customer's version.
const MARK = `for i = 1, #ARGV do redis.call('HINCRBY', KEYS[1], ARGV[i], 1) end return #ARGV`
// Clearing compares the version the sweep read: a mark made while the rollup ran keeps its customer
// owed, so an event committed after the rollup read the facts is never left out.
const CLEAR = `local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then n = n + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return n`

/** The hash of the customers owed a rollup, shared by the service's replicas. */
export const pendingRollupsKey = (keyPrefix: string) => `${keyPrefix}:customer:rollups-pending`

/** The owed rollups in the hash `key`; `pageSize` is a hint to HSCAN (small hashes come back whole). */
export function pendingRollups(valkey: Valkey, key: string, pageSize = 500): PendingRollups {
  return {
    async mark(customerIds) {
      if (customerIds.length > 0) await valkey.eval(MARK, 1, key, ...customerIds)
    },
    async scan(cursor) {
      const [next, flat] = await valkey.hscan(key, cursor, 'COUNT', pageSize)
      const pending: PendingRollup[] = []
      for (let i = 0; i + 1 < flat.length; i += 2) pending.push({ customerId: flat[i]!, version: flat[i + 1]! })
      return { cursor: next, pending }
    },
    async clear(served) {
      if (served.length > 0) await valkey.eval(CLEAR, 1, key, ...served.flatMap((p) => [p.customerId, p.version]))
    },
  }
}
