import type { Meter } from '@opentelemetry/api'
import type { Producer } from 'kafkajs'
import { contextOf, SpanKind, startSpan, traceparentOf } from '../telemetry/trace.ts'
import { sql, type Kysely } from 'kysely'
import type pg from 'pg'
import { outboxChannel } from '../db/outbox.ts'
import { sleep } from '../lifecycle.ts'
import type { Logger } from '../logger.ts'

interface OutboxRow {
  id: string
  topic: string
  key: string
  payload: Buffer
  headers: Record<string, string>
}

export interface OutboxRelay {
  start(): void
  /** Publishes what is pending (up to drainMs), then stops. */
  stop(drainMs?: number): Promise<void>
  /** Publishes one batch now; returns how many rows went out. Exposed for tests. */
  publishOnce(): Promise<number>
}

/**
 * Moves outbox rows to Kafka in commit order. Only one replica relays at a time (a
 * transaction-scoped advisory lock), which keeps each key's events in order; a row is marked
 * published only after Kafka acknowledged it, so a crash re-sends rather than loses.
 * Woken by LISTEN/NOTIFY at commit, with a poll as a safety net.
 */
export function createOutboxRelay(options: {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>
  pool: pg.Pool
  schema: string
  producer: Producer
  log: Logger
  meter: Meter
  batchSize?: number
  pollMs?: number
  /** After a wake-up, how long to let more commits gather before publishing them in one batch. */
  coalesceMs?: number
}): OutboxRelay {
  const { db, pool, schema, producer, log } = options
  const batchSize = options.batchSize ?? 200
  const pollMs = options.pollMs ?? 1000
  const coalesceMs = options.coalesceMs ?? 10
  // Labelled by topic and event type (and the producer's optional `event-outcome` header), so the
  // business counters are derived from what was published: orders placed, points redeemed, ...
  const published = options.meter.createCounter('outbox_published', {
    description: 'outbox rows published to Kafka, by topic and event type',
  })
  const failures = options.meter.createCounter('outbox_publish_failures', { description: 'failed outbox publish attempts' })
  backlogMetrics(options.meter, db)
  const lockKey = `brewmesh.outbox.${schema}`
  let controller = new AbortController()
  let wake: (() => void) | undefined
  let loop: Promise<void> | undefined
  let listener: pg.PoolClient | undefined
  let connected = false

  const publishOnce = async (): Promise<number> =>
    db.transaction().execute(async (trx) => {
      // The lock and the read in one round trip: no rows when another replica holds the lock.
      const rows = await sql<OutboxRow>`
        with relay as (select pg_try_advisory_xact_lock(hashtext(${lockKey})) as locked)
        select o.id, o.topic, o.key, o.payload, o.headers from outbox o, relay
        where relay.locked and o.published_at is null order by o.id limit ${batchSize}`.execute(trx)
      if (rows.rows.length === 0) return 0
      if (!connected) {
        await producer.connect()
        connected = true
      }
      // A publish span per event, child of the request that wrote it; consumers continue from it.
      const spans = rows.rows.map((r) =>
        r.headers.traceparent
          ? startSpan(`${r.topic} publish`, SpanKind.PRODUCER, contextOf(r.headers.traceparent), {
              'messaging.system': 'kafka',
              'messaging.operation.type': 'send',
              'messaging.destination.name': r.topic,
              'messaging.message.id': r.headers['event-id'] ?? '',
            })
          : undefined,
      )
      const byTopic = new Map<string, { key: string; value: Buffer; headers: Record<string, string> }[]>()
      rows.rows.forEach((r, i) => {
        const span = spans[i]
        const headers = span ? { ...r.headers, traceparent: traceparentOf(span) ?? r.headers.traceparent ?? '' } : r.headers
        byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), { key: r.key, value: r.payload, headers }])
      })
      try {
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
      } catch (err) {
        for (const span of spans) span?.setStatus({ code: 2, message: (err as Error).message })
        throw err
      } finally {
        for (const span of spans) span?.end()
      }
      const ids = rows.rows.map((r) => r.id)
      await sql`update outbox set published_at = now() where id = any(${ids}::bigint[])`.execute(trx)
      for (const [labels, n] of countByLabels(rows.rows)) published.add(n, labels)
      return ids.length
    })

  const listen = async () => {
    try {
      listener = await pool.connect()
      listener.on('notification', () => wake?.())
      listener.on('error', () => {
        listener?.release(true)
        listener = undefined
      })
      await listener.query(`listen ${outboxChannel(schema)}`)
    } catch {
      listener?.release(true)
      listener = undefined
    }
  }

  const run = async (signal: AbortSignal) => {
    let backoff = 200
    while (!signal.aborted) {
      try {
        if (!listener) await listen()
        const sent = await publishOnce()
        backoff = 200
        if (sent === batchSize) continue
      } catch (err) {
        failures.add(1)
        if (connected) {
          // Start from a fresh connection: kafkajs can keep a broken one after the broker restarts.
          await producer.disconnect().catch(() => undefined)
          connected = false
        }
        log.warn({ err: (err as Error).message, retryInMs: backoff }, 'outbox publish failed, will retry')
        await sleep(backoff, signal)
        backoff = Math.min(backoff * 2, 5000)
        continue
      }
      const woken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), pollMs)
        wake = () => {
          clearTimeout(timer)
          resolve(true)
        }
        signal.addEventListener('abort', wake, { once: true })
      })
      // Under load commits arrive every few milliseconds: let them gather into one batch (one
      // transaction and one Kafka request) instead of one each.
      if (woken && coalesceMs > 0) await sleep(coalesceMs, signal)
    }
  }

  return {
    publishOnce,
    start() {
      controller = new AbortController()
      loop = run(controller.signal)
    },
    async stop(drainMs = 3000) {
      controller.abort()
      await loop
      const deadline = Date.now() + drainMs
      try {
        while (Date.now() < deadline && (await publishOnce()) > 0);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'outbox not drained at shutdown; rows stay pending for the next start')
      }
      listener?.release()
      listener = undefined
      if (connected) await producer.disconnect()
      connected = false
    },
  }
}

/** The labels a published row is counted under: its topic, its `event-type` and, when the producer set one, its `event-outcome`. */
export function publishedLabels(row: Pick<OutboxRow, 'topic' | 'headers'>): Record<string, string> {
  const outcome = row.headers['event-outcome']
  return { topic: row.topic, event_type: row.headers['event-type'] ?? 'unknown', ...(outcome ? { outcome } : {}) }
}

function countByLabels(rows: readonly OutboxRow[]): Map<Record<string, string>, number> {
  const byKey = new Map<string, { labels: Record<string, string>; n: number }>()
  for (const row of rows) {
    const labels = publishedLabels(row)
    const key = JSON.stringify(labels)
    const entry = byKey.get(key) ?? { labels, n: 0 }
    entry.n += 1
    byKey.set(key, entry)
  }
  return new Map([...byKey.values()].map(({ labels, n }) => [labels, n]))
}

/**
 * outbox_pending (rows not yet published) and outbox_oldest_pending_age_seconds (how long the
 * oldest of them has waited), read from the service's own outbox when scraped. Every replica reports
 * the same table, so take max() across replicas, not sum(). A growing age means events are not
 * reaching Kafka (the relay is failing or stuck). A scrape never waits on PostgreSQL for more than a
 * second; unanswered, it reports nothing for that scrape.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function backlogMetrics(meter: Meter, db: Kysely<any>): void {
  const pending = meter.createObservableGauge('outbox_pending', { description: 'outbox rows not yet published' })
  const age = meter.createObservableGauge('outbox_oldest_pending_age_seconds', {
    description: 'age of the oldest unpublished outbox row (0 when none)',
    unit: 's',
  })
  meter.addBatchObservableCallback(
    async (result) => {
      const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000).unref())
      const query = sql<{ pending: string; age: number | null }>`
        select count(*) as pending, extract(epoch from now() - min(created_at))::float8 as age
        from outbox where published_at is null`.execute(db)
      const answer = await Promise.race([query, timeout]).catch(() => undefined)
      const row = answer?.rows[0]
      if (!row) return
      result.observe(pending, Number(row.pending))
      result.observe(age, Math.max(0, row.age ?? 0))
    },
    [pending, age],
  )
}
