import { CompiledQuery, sql, type ColumnType, type Generated, type Kysely } from 'kysely'
import { byteaArray, jsonbArray, textArray } from './binary-arrays.ts'

/**
 * The transactional outbox: events are rows written in the same transaction as the change
 * they describe; the relay (kafka/outbox-relay.ts) publishes them. Every service's first
 * migration calls createOutboxTables.
 */
export interface OutboxMessage {
  topic: string
  key: string
  payload: Uint8Array
  headers: Record<string, string>
}

// Kysely executors of any schema (a db or a transaction) can run these queries.
type Executor = Kysely<any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The outbox table as kysely sees it (every service's schema.ts lists it under `outbox`). */
export interface OutboxTable {
  id: Generated<string>
  topic: string
  key: string
  payload: Buffer
  headers: ColumnType<Record<string, string>, string, string>
  created_at: Generated<Date>
  published_at: Date | null
}

/** Event ids each consumer applied (every service's schema.ts lists it under `processed_events`). */
export interface ProcessedEventsTable {
  consumer: string
  event_id: string
  processed_at: Generated<Date>
}

export const outboxChannel = (schema: string) => `${schema}_outbox`

export async function createOutboxTables(db: Executor): Promise<void> {
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('payload', 'bytea', (c) => c.notNull())
    .addColumn('headers', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('published_at', 'timestamptz')
    .execute()
  await sql`create index outbox_pending on outbox (id) where published_at is null`.execute(db)
  await db.schema
    .createTable('processed_events')
    .addColumn('consumer', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('processed_events_pk', ['consumer', 'event_id'])
    .execute()
}

/**
 * The outbox insert of a list of messages, for a statement of its own (enqueue) or as a
 * data-modifying CTE of a service's statement that writes its change and its events in one round
 * trip (order PLACE, loyalty POST_ENTRY). Its parameters, numbered from `first`, are the four
 * arrays of outboxValues; the caller adds a `where` if any and `returning id`. One array per
 * column, not a parameter per value: the text is the same whatever the number of messages, so it
 * stays one prepared statement (db/send-statements.ts).
 */
export const outboxInsert = (first: number) => `insert into outbox (topic, key, payload, headers)
    select * from unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::bytea[], $${first + 3}::jsonb[])`

/** The parameters of outboxInsert, in its order: arrays in PostgreSQL's binary form (binary-arrays.ts). */
export const outboxValues = (messages: readonly OutboxMessage[]): unknown[] => [
  textArray(messages.map((m) => m.topic)),
  textArray(messages.map((m) => m.key)),
  byteaArray(messages.map((m) => m.payload)),
  jsonbArray(messages.map((m) => JSON.stringify(m.headers))),
]

/**
 * Adds messages to the outbox inside the caller's transaction and wakes the relay at commit, in one
 * statement (one round trip: the rows and their pg_notify).
 */
export async function enqueue(trx: Executor, schema: string, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return
  const text = `with added as (${outboxInsert(1)} returning id) select pg_notify($5::text, '') from added limit 1`
  await trx.executeQuery(CompiledQuery.raw(text, [...outboxValues(messages), outboxChannel(schema)]))
}

/**
 * Idempotent consumers: records that `consumer` applied the events of a chunk, with one statement
 * in the caller's transaction, and returns the items to apply: those whose event was not applied
 * before, each event once (its first delivery in the chunk), in chunk order.
 */
export async function claimEvents<T>(trx: Executor, consumer: string, items: readonly T[], eventIdOf: (item: T) => string): Promise<T[]> {
  if (items.length === 0) return []
  const ids = [...new Set(items.map(eventIdOf))]
  // One array parameter, not two per row: the statement stays the same size whatever the chunk.
  const { rows } = await sql<{ event_id: string }>`
    insert into processed_events (consumer, event_id) select ${consumer}, unnest(${ids}::text[])
    on conflict do nothing returning event_id`.execute(trx)
  const fresh = new Set(rows.map((r) => r.event_id))
  // Set.delete answers true once per id: a second delivery of the same event in the chunk is left out.
  return items.filter((item) => fresh.delete(eventIdOf(item)))
}

export interface PurgeResult {
  outboxRows: number
  processedEvents: number
}

/**
 * Deletes outbox rows published more than `days` ago and processed-event ids older than that (a
 * redelivery that late is beyond any broker retention we configure). Idempotent: a second run for
 * the same cut-off deletes nothing.
 */
export async function purgeOutbox(db: Executor, days: number, now: Date): Promise<PurgeResult> {
  const cutoff = new Date(now.getTime() - days * 86_400_000)
  const outbox = await sql`delete from outbox where published_at is not null and published_at < ${cutoff}`.execute(db)
  const processed = await sql`delete from processed_events where processed_at < ${cutoff}`.execute(db)
  return { outboxRows: Number(outbox.numAffectedRows ?? 0n), processedEvents: Number(processed.numAffectedRows ?? 0n) }
}
