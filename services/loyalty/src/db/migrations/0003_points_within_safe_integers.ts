import { sql, type Kysely } from 'kysely'

/**
 * Every points value stays within +/- 9,007,199,254,740,991 (2^53 - 1), where the service's
 * arithmetic (and any client's 64-bit float) is exact. The ledger refuses changes past it; these
 * constraints make PostgreSQL refuse them too. An account's balance plus reserved points is bound
 * (a release moves reserved points back into the balance), summed as numeric so the check itself
 * cannot overflow. Validated: rows written past the bound by the code before it are wrong already
 * (their balance_after drifted), and must be repaired before this release, not carried on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table accounts add constraint accounts_points_within_safe_integers
    check (balance::numeric + reserved_points <= 9007199254740991 and lifetime_points between 0 and 9007199254740991)`.execute(db)
  await sql`alter table ledger_entries add constraint ledger_entries_points_within_safe_integers
    check (points between -9007199254740991 and 9007199254740991 and balance_after between 0 and 9007199254740991)`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table ledger_entries drop constraint ledger_entries_points_within_safe_integers`.execute(db)
  await sql`alter table accounts drop constraint accounts_points_within_safe_integers`.execute(db)
}
