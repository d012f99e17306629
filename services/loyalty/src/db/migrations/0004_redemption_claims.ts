import { sql, type Kysely } from 'kysely'

/**
 * A redemption's claims: `claim` counts the times a placement asked for it (1 when reserved, one
 * more each time a retry of the same placement got it back) and `claimed_at` is the last of them.
 * ReleaseRedemptions may name the claim it saw, so a failed attempt never gives back what a later
 * retry claimed; the reservation hold counts from `claimed_at`. The defaults cover rows a replica
 * of the previous version inserts during a rolling deploy (it reserves then: claim 1, now).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table redemptions add column claim integer not null default 1, add column claimed_at timestamptz not null default now()`.execute(
    db,
  )
  await sql`update redemptions set claimed_at = reserved_at`.execute(db)
  await sql`create index redemptions_held on redemptions (claimed_at) where state = 'reserved' and not voided`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index redemptions_held`.execute(db)
  await sql`alter table redemptions drop column claimed_at, drop column claim`.execute(db)
}
