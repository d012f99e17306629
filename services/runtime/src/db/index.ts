// The PostgreSQL area of runtime: the outbox and idempotent consumption, inside a service's own transactions.
export { claimEvents, enqueue, type OutboxMessage, type OutboxTable, type ProcessedEventsTable } from './outbox.ts'
export { createDatabase } from './postgres.ts'
export { purgeOutbox } from './outbox.ts'
