import type { WatchCustomerStatsResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { AsyncQueue, type FanOut } from '@brewmesh/runtime/streams'
import type { CustomerStats } from '../domain/stats.ts'
import { statsToProto } from '../proto/stats-mapper.ts'

const MAX_PENDING = 100

/**
 * Server streaming: the statistics now, then each rollup result as it lands (through Valkey, from
 * any replica). Subscribes before reading, so no result falls between the two; a result older than
 * the one sent is skipped.
 */
export async function* watchCustomerStats(
  updates: FanOut<CustomerStats>,
  customerId: string,
  load: () => Promise<CustomerStats>,
  signal: AbortSignal,
): AsyncIterable<WatchCustomerStatsResponse> {
  const queue = new AsyncQueue<CustomerStats>(MAX_PENDING, signal)
  const unsubscribe = updates.subscribe(customerId, (stats) => void queue.push(stats))
  try {
    let last = await load()
    yield { stats: statsToProto(last) }
    for await (const stats of queue) {
      if (stats.computedAt <= last.computedAt) continue
      last = stats
      yield { stats: statsToProto(stats) }
    }
  } finally {
    unsubscribe()
  }
}
