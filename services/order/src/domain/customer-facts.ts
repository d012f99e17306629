import type { CustomerFact } from './ports.ts'

/**
 * The last fact of each customer among these: the highest version (a deletion is a customer's last
 * version, so it wins). One per customer, as one statement can keep each row once.
 */
export function latestOfEach(facts: readonly CustomerFact[]): CustomerFact[] {
  const latest = new Map<string, CustomerFact>()
  for (const fact of facts) {
    const kept = latest.get(fact.id)
    if (!kept || fact.version > kept.version || (fact.deleted && !kept.deleted)) latest.set(fact.id, fact)
  }
  return [...latest.values()]
}
