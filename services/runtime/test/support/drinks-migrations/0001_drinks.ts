import { sql, type Kysely } from 'kysely'

// The migration own-schema.int.test.ts applies: a table and a view, with a serial column, a
// default and a comment, so introspection has each kind of metadata to report.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('drinks')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size', 'text', (c) => c.defaultTo('medium'))
    .execute()
  await sql`comment on column drinks.name is 'what the menu calls it'`.execute(db)
  await db.schema
    .createView('large_drinks')
    .as(sql`select id, name from drinks where size = 'large'`)
    .execute()
}
