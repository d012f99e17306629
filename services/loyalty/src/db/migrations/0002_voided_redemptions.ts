import { sql, type Kysely } from 'kysely'

/**
 * Redemptions a failed placement gave back (ReleaseRedemptions) are voided: they stay as history,
 * but their request_id is free again, so a retry of the same placement reserves afresh. The
 * request_id stays unique among the redemptions that are not voided.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table redemptions add column voided boolean not null default false`.execute(db)
  await sql`alter table redemptions drop constraint redemptions_request_id_key`.execute(db)
  await sql`create unique index redemptions_live_request on redemptions (request_id) where not voided`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index redemptions_live_request`.execute(db)
  await sql`alter table redemptions add constraint redemptions_request_id_key unique (request_id)`.execute(db)
  await sql`alter table redemptions drop column voided`.execute(db)
}
