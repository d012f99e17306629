import type { CallBudget, CustomerFact, CustomerFacts, CustomerInfo, Customers } from '../domain/ports.ts'
import type { CustomerService } from './customer-client.ts'

const infoOf = ({ id, displayName, householdId, active }: CustomerFact): CustomerInfo => ({ id, displayName, householdId, active })

/**
 * Customers as the Order Service knows them: the facts it keeps from the customer events first; the
 * Customer service for a customer it has not heard of yet, and whenever the domain asks for the
 * answer of now. What the Customer service answers is kept too (a higher version only), so the
 * next order of that customer is served from the facts.
 */
export function knownCustomers(facts: CustomerFacts, service: CustomerService): Customers {
  async function current(id: string, budget: CallBudget): Promise<CustomerInfo | undefined> {
    const fact = await service.get(id, budget)
    if (!fact) return undefined
    await facts.learn([fact])
    return infoOf(fact)
  }
  return {
    async known(id, budget) {
      const heard = await facts.heard(id)
      if (heard) return { customer: heard.deleted ? undefined : infoOf(heard), asked: false }
      return { customer: await current(id, budget), asked: true }
    },
    current,
  }
}
