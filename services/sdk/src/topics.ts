/**
 * The Kafka topics of the contracts: each service's events.proto says which of these carries its
 * events. Producers, consumers and tests name topics from here only; a deployment may add a
 * suffix (KAFKA_TOPIC_SUFFIX) to keep test runs apart.
 */
export const TOPICS = {
  customerEvents: 'brewmesh.customer.events.v1',
  orderEvents: 'brewmesh.order.events.v1',
  loyaltyEvents: 'brewmesh.loyalty.events.v1',
  favoritesEvents: 'brewmesh.favorites.events.v1',
} as const
