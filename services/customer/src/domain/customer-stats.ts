import { notFound } from '@brewmesh/runtime/errors'
import { uuidOf } from '@brewmesh/runtime/ids'
import type { StatsStore } from './ports.ts'
import { aggregate, statsOf, type CustomerStats } from './stats.ts'

/**
 * Recomputes the statistics of some customers from their facts and archived months, with one read
 * and one write for all of them: a rollup costs what those customers have, not what the tables
 * hold, and a batch of customers takes the two round trips one customer takes.
 */
export async function rollup(store: StatsStore, customerIds: readonly string[], now: Date): Promise<CustomerStats[]> {
  if (customerIds.length === 0) return []
  const history = await store.history(customerIds)
  const stats = customerIds.map((id) => statsOf(id, aggregate(history.get(id)?.facts ?? [], history.get(id)?.archived), now))
  await store.saveStats(stats)
  return stats
}

/** The last rollup of a customer; a customer without orders has all-zero statistics. */
export async function customerStats(
  store: StatsStore,
  customerId: string,
  exists: (id: string) => Promise<boolean>,
  now: Date,
): Promise<CustomerStats> {
  const id = uuidOf(customerId, 'customer_id')
  const stats = await store.stats(id)
  if (stats) return stats
  if (!(await exists(id))) throw notFound('customer', id)
  return statsOf(id, aggregate([]), now)
}
