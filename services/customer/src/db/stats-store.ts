import { sql, type Kysely, type Selectable } from 'kysely'
import { claimEvents } from '@brewmesh/runtime/db'
import type { CustomerHistory, StatsStore } from '../domain/ports.ts'
import {
  aggregate,
  EMPTY_AGGREGATE,
  mergeAggregates,
  monthOf,
  newestFacts,
  type CustomerStats,
  type DrinkTally,
  type OrderFact,
  type StatsAggregate,
} from '../domain/stats.ts'
import type { CustomerDb, OrderFactsTable } from './schema.ts'

const toFact = (r: Selectable<OrderFactsTable>): OrderFact => ({
  orderId: r.order_id,
  customerId: r.customer_id,
  placedAt: r.placed_at,
  status: r.status as OrderFact['status'],
  spentMinor: Number(r.spent_minor),
  currency: r.currency,
  drinks: r.drinks as DrinkTally[],
  version: r.version,
})

/** A fact as the rollup read builds it: order id, placed_at in epoch ms, status, spent, currency, drinks, version. */
type FactTuple = [string, number, string, number, string, DrinkTally[], number]
const factOf = (customerId: string, [orderId, placedAtMs, status, spentMinor, currency, drinks, version]: FactTuple): OrderFact => ({
  orderId,
  customerId,
  placedAt: new Date(placedAtMs),
  status: status as OrderFact['status'],
  spentMinor: Number(spentMinor),
  currency,
  drinks,
  version,
})

const rowOf = (f: OrderFact) => ({
  order_id: f.orderId,
  customer_id: f.customerId,
  placed_at: f.placedAt,
  status: f.status,
  spent_minor: f.spentMinor,
  currency: f.currency,
  drinks: f.drinks,
  version: f.version,
})

const reviveDate = (v: unknown) => (typeof v === 'string' ? new Date(v) : undefined)
const toAggregate = (json: unknown): StatsAggregate => {
  const a = json as StatsAggregate
  return { ...a, firstOrderAt: reviveDate(a.firstOrderAt), lastOrderAt: reviveDate(a.lastOrderAt) }
}
const toStats = (json: unknown): CustomerStats => {
  const s = json as CustomerStats
  return { ...s, firstOrderAt: reviveDate(s.firstOrderAt), lastOrderAt: reviveDate(s.lastOrderAt), computedAt: new Date(s.computedAt) }
}

/** PostgreSQL implementation of the statistics store. */
export function statsStore(db: Kysely<CustomerDb>): StatsStore {
  return {
    recordFacts: (consumer, events) =>
      db.transaction().execute(async (trx) => {
        const fresh = await claimEvents(trx, consumer, events, (e) => e.eventId)
        const facts = newestFacts(fresh.flatMap((e) => e.facts))
        if (facts.length > 0) {
          // One statement and one parameter for the chunk (PostgreSQL reads the rows from JSON);
          // a stored newer version of an order stays.
          await sql`
            insert into order_facts (order_id, customer_id, placed_at, status, spent_minor, currency, drinks, version)
            select order_id, customer_id, placed_at, status, spent_minor, currency, drinks, version
              from json_to_recordset(${JSON.stringify(facts.map(rowOf))}::json) as f(order_id uuid, customer_id uuid,
                placed_at timestamptz, status text, spent_minor bigint, currency text, drinks jsonb, version integer)
            on conflict (customer_id, order_id) do update
              set placed_at = excluded.placed_at, status = excluded.status, spent_minor = excluded.spent_minor,
                  currency = excluded.currency, drinks = excluded.drinks, version = excluded.version, updated_at = now()
              where order_facts.version < excluded.version`.execute(trx)
        }
        return new Set(fresh.map((e) => e.eventId))
      }),
    async history(customerIds) {
      const byCustomer = new Map<string, CustomerHistory>()
      if (customerIds.length === 0) return byCustomer
      // One round trip and one row per customer: PostgreSQL builds each customer's facts and
      // archived months as JSON, which one JSON.parse reads far faster than row-by-row columns.
      const { rows } = await sql<{ customer_id: string; facts: FactTuple[]; archived: unknown[] }>`
        select c.id as customer_id,
          (select coalesce(json_agg(json_build_array(f.order_id, extract(epoch from f.placed_at) * 1000, f.status,
                    f.spent_minor, f.currency, f.drinks, f.version)), '[]')
             from order_facts f where f.customer_id = c.id) as facts,
          (select coalesce(json_agg(a.aggregate), '[]') from stats_archive a where a.customer_id = c.id) as archived
        from unnest(${customerIds}::uuid[]) as c(id)`.execute(db)
      for (const row of rows) {
        byCustomer.set(row.customer_id, {
          facts: row.facts.map((t) => factOf(row.customer_id, t)),
          archived: row.archived.map(toAggregate).reduce(mergeAggregates, EMPTY_AGGREGATE),
        })
      }
      return byCustomer
    },
    async saveStats(stats) {
      if (stats.length === 0) return
      // One parameter for all of them; two replicas' rollups of one customer: the later computation
      // wins, whichever finishes last.
      await sql`
        insert into customer_stats (customer_id, stats, computed_at)
        select (s ->> 'customerId')::uuid, s, (s ->> 'computedAt')::timestamptz from jsonb_array_elements(${JSON.stringify(stats)}::jsonb) as s
        on conflict (customer_id) do update set stats = excluded.stats, computed_at = excluded.computed_at
          where customer_stats.computed_at <= excluded.computed_at`.execute(db)
    },
    async stats(customerId) {
      const row = await db.selectFrom('customer_stats').select('stats').where('customer_id', '=', customerId).executeTakeFirst()
      return row && toStats(row.stats)
    },
    async customers(after, limit) {
      const { rows } = await sql<{ customer_id: string }>`
        select customer_id from (
          select customer_id from order_facts union select customer_id from stats_archive union select customer_id from customer_stats
        ) c where customer_id::text > ${after} order by customer_id::text limit ${limit}`.execute(db)
      return rows.map((r) => r.customer_id)
    },
    archiveBefore: (before, limit) =>
      db.transaction().execute(async (trx) => {
        const old = (
          await trx
            .selectFrom('order_facts')
            .selectAll()
            .where('placed_at', '<', before)
            .orderBy('placed_at')
            .limit(limit)
            .forUpdate()
            .execute()
        ).map(toFact)
        const groups = new Map<string, OrderFact[]>()
        for (const f of old) {
          const key = `${f.customerId}|${monthOf(f.placedAt)}`
          groups.set(key, [...(groups.get(key) ?? []), f])
        }
        for (const [key, facts] of groups) {
          const [customerId = '', month = ''] = key.split('|')
          const existing = await trx
            .selectFrom('stats_archive')
            .select('aggregate')
            .where('customer_id', '=', customerId)
            .where('month', '=', month)
            .forUpdate()
            .executeTakeFirst()
          const merged = aggregate(facts, existing ? toAggregate(existing.aggregate) : EMPTY_AGGREGATE)
          const row = { customer_id: customerId, month, aggregate: JSON.stringify(merged) }
          await trx
            .insertInto('stats_archive')
            .values(row)
            .onConflict((oc) => oc.columns(['customer_id', 'month']).doUpdateSet(row))
            .execute()
        }
        if (old.length > 0) {
          // By customer and order: another customer's fact of the same (group) order may not be in this batch.
          await trx
            .deleteFrom('order_facts')
            .where((eb) =>
              eb(
                eb.refTuple('customer_id', 'order_id'),
                'in',
                old.map((f) => eb.tuple(f.customerId, f.orderId)),
              ),
            )
            .execute()
        }
        return old.length
      }),
  }
}
