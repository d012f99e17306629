// The PostgreSQL area of runtime: the outbox and idempotent consumption, inside a service's own transactions.
export {
  claimEvents,
  enqueue,
  outboxChannel,
  outboxInsert,
  outboxValues,
  type OutboxMessage,
  type OutboxTable,
  type ProcessedEventsTable,
} from './outbox.ts'
export { byteaArray, jsonbArray, textArray } from './binary-arrays.ts'
export { createDatabase, type Database } from './postgres.ts'
export { createOutboxTables, purgeOutbox } from './outbox.ts'
export { columnsOf, reusableStatement, type ReusableStatement } from './reusable-statement.ts'
