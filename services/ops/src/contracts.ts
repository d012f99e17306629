import { CustomerEvent } from '@brewmesh/gen/brewmesh/customer/v1/events.ts'
import { FavoritesEvent } from '@brewmesh/gen/brewmesh/favorites/v1/events.ts'
import { LoyaltyEvent } from '@brewmesh/gen/brewmesh/loyalty/v1/events.ts'
import { OrderEvent } from '@brewmesh/gen/brewmesh/order/v1/events.ts'
import { TOPICS } from '@brewmesh/sdk/topics.ts'

interface Contract {
  decode(input: Uint8Array): unknown
  toJSON(message: never): unknown
}

/** The event message each topic of the contracts carries (proto/brewmesh/<svc>/v1/events.proto). */
const CONTRACTS: Record<string, Contract> = {
  [TOPICS.customerEvents]: CustomerEvent,
  [TOPICS.orderEvents]: OrderEvent,
  [TOPICS.loyaltyEvents]: LoyaltyEvent,
  [TOPICS.favoritesEvents]: FavoritesEvent,
}

/**
 * A message of `topic` (with or without its deployment suffix) as the JSON of its contract, or
 * why it cannot be: the payload of a dead letter is often exactly what did not decode.
 */
export function decodeEvent(topic: string, suffix: string, value: Buffer | null): { event: unknown } | { undecodable: string } {
  const base = suffix && topic.endsWith(suffix) ? topic.slice(0, -suffix.length) : topic
  const contract = CONTRACTS[base]
  if (!contract) return { undecodable: `no contract for topic ${base}` }
  if (!value) return { undecodable: 'no value' }
  try {
    return { event: contract.toJSON(contract.decode(value) as never) }
  } catch (err) {
    return { undecodable: `not a valid ${base} event: ${(err as Error).message}` }
  }
}
