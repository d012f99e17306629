import { sql, type Kysely } from 'kysely'

// The answers given to a barista's commands, so a command resent after a reconnect (to any
// replica) gets the same answer instead of being applied again. Kept 24 hours (the purge job).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('barista_commands')
    .addColumn('barista_id', 'text', (c) => c.notNull())
    .addColumn('command_id', 'text', (c) => c.notNull())
    .addColumn('answer', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('barista_commands_pk', ['barista_id', 'command_id'])
    .execute()
  await sql`create index barista_commands_created on barista_commands (created_at)`.execute(db)
}
