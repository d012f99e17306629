import { sql, type Kysely } from 'kysely'
import { claimEvents, reusableStatement } from '@brewmesh/runtime/db'
import { latestOfEach } from '../domain/customer-facts.ts'
import type { CustomerFact, CustomerFacts } from '../domain/ports.ts'
import type { OrderDb } from './schema.ts'

const heardStatement = (db: Kysely<OrderDb>) =>
  reusableStatement((p: { id: string }) =>
    db
      .selectFrom('customer_facts')
      .select(['customer_id', 'display_name', 'household_id', 'active', 'deleted', 'version'])
      .where('customer_id', '=', p.id),
  )

/**
 * Keeps the last fact of each customer with one statement (one array per column): a row changes
 * only to a higher version, and never once it holds the customer's deletion.
 */
async function keep(db: Kysely<OrderDb>, facts: readonly CustomerFact[]): Promise<void> {
  const rows = latestOfEach(facts)
  if (rows.length === 0) return
  await sql`
    insert into customer_facts (customer_id, display_name, household_id, active, deleted, version)
    select * from unnest(${rows.map((f) => f.id)}::uuid[], ${rows.map((f) => f.displayName)}::text[],
                         ${rows.map((f) => f.householdId || null)}::uuid[], ${rows.map((f) => f.active)}::boolean[],
                         ${rows.map((f) => f.deleted)}::boolean[], ${rows.map((f) => f.version)}::int[])
    on conflict (customer_id) do update
       set display_name = excluded.display_name, household_id = excluded.household_id, active = excluded.active,
           deleted = excluded.deleted, version = excluded.version, heard_at = now()
     where not customer_facts.deleted and customer_facts.version < excluded.version`.execute(db)
}

/** The customer facts in the Order Service's schema (customer_facts, migration 0006). */
export function customerFactsStore(db: Kysely<OrderDb>): CustomerFacts {
  const heard = heardStatement(db)
  return {
    async heard(id) {
      const [row] = await heard(db, { id })
      return (
        row && {
          id: row.customer_id,
          displayName: row.display_name,
          householdId: row.household_id ?? '',
          active: row.active,
          deleted: row.deleted,
          version: row.version,
        }
      )
    },
    learn: (facts) => keep(db, facts),
    applyEvents: (consumer, events) =>
      db.transaction().execute(async (trx) => {
        const fresh = await claimEvents(trx, consumer, events, (e) => e.eventId)
        await keep(
          trx,
          fresh.map((e) => e.fact),
        )
        return fresh.length
      }),
  }
}
