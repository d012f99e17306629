import type { WatchCustomerStatsResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { AsyncQueue } from '@brewmesh/runtime/streams/async-queue.ts'
import type { CallContext, Send } from '@brewmesh/runtime/grpc/calls.ts'
import type { CustomerStats } from '../domain/stats.ts'
import type { StatsFeed } from '../events/stats-feed.ts'
import { statsToProto } from '../proto/stats-mapper.ts'

const MAX_PENDING = 100

/** Server streaming: the statistics now, then each rollup result as it lands (through Valkey, from any replica). */
export async function watchCustomerStats(
  feed: StatsFeed,
  customerId: string,
  load: () => Promise<CustomerStats>,
  send: Send<WatchCustomerStatsResponse>,
  ctx: CallContext,
): Promise<void> {
  const queue = new AsyncQueue<CustomerStats>(MAX_PENDING, ctx.signal)
  const unsubscribe = feed.subscribe(customerId, (stats) => void queue.push(stats))
  try {
    let last = await load()
    if (!(await send({ stats: statsToProto(last) }))) return
    for await (const stats of queue) {
      if (stats.computedAt <= last.computedAt) continue
      last = stats
      if (!(await send({ stats: statsToProto(stats) }))) return
    }
  } finally {
    unsubscribe()
  }
}
