import { sql, type Kysely } from 'kysely'

/**
 * claimed_at: when a placement last asked for the redemption (reserved it, or a retry of the same
 * placement got it back). The reservation hold counts from here, so a retry that is storing its
 * order is never released under it. The default covers rows a replica of the previous version
 * inserts during a rolling deploy (it reserves then, so now() is its reservation time).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table redemptions add column claimed_at timestamptz not null default now()`.execute(db)
  await sql`update redemptions set claimed_at = reserved_at`.execute(db)
  await sql`create index redemptions_held on redemptions (claimed_at) where state = 'reserved' and not voided`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index redemptions_held`.execute(db)
  await sql`alter table redemptions drop column claimed_at`.execute(db)
}
