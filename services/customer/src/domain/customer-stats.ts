import { notFound } from '@brewmesh/runtime/errors.ts'
import type { StatsStore } from './ports.ts'
import { aggregate, statsOf, type CustomerStats } from './stats.ts'
import { requireUuid } from './validation.ts'

/**
 * Recomputes one customer's statistics from their facts and archived months. Reads only that
 * customer's rows, so a rollup costs what the customer has, not what the table holds.
 */
export async function rollup(store: StatsStore, customerId: string, now: Date): Promise<CustomerStats> {
  const [facts, archived] = await Promise.all([store.facts(customerId), store.archived(customerId)])
  const stats = statsOf(customerId, aggregate(facts, archived), now)
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
  requireUuid(customerId, 'customer_id')
  const id = customerId.toLowerCase()
  const stats = await store.stats(id)
  if (stats) return stats
  if (!(await exists(id))) throw notFound('customer', id)
  return statsOf(id, aggregate([]), now)
}
