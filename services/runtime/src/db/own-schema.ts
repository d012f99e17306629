import { sql, type DatabaseIntrospector, type DatabaseMetadataOptions, type Dialect, type Kysely, type TableMetadata } from 'kysely'
import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE } from 'kysely/migration'

/**
 * `dialect`, with introspection that sees one schema: the service's own.
 *
 * kysely's PostgreSQL introspector lists every table in the database, and its migrator keeps the
 * ones in the schema it migrates. That query looks each schema up by name as it goes
 * (has_schema_privilege, pg_get_serial_sequence), so a schema another client drops while it runs
 * fails it: `schema "…" does not exist`. A CI run failed that way, where each test file has a
 * schema of its own in a shared database and drops it when it ends. A service never reads another
 * schema, so its introspection names its own.
 */
export function ownSchemaDialect(dialect: Dialect, schema: string): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => dialect.createDriver(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => ownSchemaIntrospector(db, schema),
  }
}

interface ColumnRow {
  table_name: string
  kind: string
  column_name: string
  not_null: boolean
  has_default: boolean
  type: string
  type_schema: string
  description: string | null
  sequence: string | null
}

type AnyDb = Kysely<any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** kysely's PostgreSQL introspection (the same metadata), for the tables and views of `schema` only. */
function ownSchemaIntrospector(db: AnyDb, schema: string): DatabaseIntrospector {
  return {
    async getSchemas() {
      const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}`.execute(
        db,
      )
      return rows
    },
    async getTables(options?: DatabaseMetadataOptions) {
      const { rows } = await sql<ColumnRow>`
        select c.relname as table_name, c.relkind as kind, a.attname as column_name, a.attnotnull as not_null,
               a.atthasdef as has_default, t.typname as type, tns.nspname as type_schema,
               col_description(a.attrelid, a.attnum) as description,
               pg_get_serial_sequence(quote_ident(ns.nspname) || '.' || quote_ident(c.relname), a.attname) as sequence
          from pg_catalog.pg_attribute a
          join pg_catalog.pg_class c on c.oid = a.attrelid
          join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
          join pg_catalog.pg_type t on t.oid = a.atttypid
          join pg_catalog.pg_namespace tns on tns.oid = t.typnamespace
         where ns.nspname = ${schema} and c.relkind in ('r', 'v', 'p', 'f') and a.attnum > 0 and not a.attisdropped
         order by c.relname, a.attnum`.execute(db)
      const internal = options?.withInternalKyselyTables ? [] : [DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE]
      return tablesOf(
        rows.filter((r) => !internal.includes(r.table_name)),
        schema,
      )
    },
  }
}

/** Columns (ordered by table) grouped into kysely's table metadata. */
function tablesOf(rows: ColumnRow[], schema: string): TableMetadata[] {
  const tables = new Map<string, TableMetadata>()
  for (const r of rows) {
    let table = tables.get(r.table_name)
    if (!table) {
      table = { name: r.table_name, schema, isView: r.kind === 'v', isForeign: r.kind === 'f', columns: [] }
      tables.set(r.table_name, table)
    }
    table.columns.push({
      name: r.column_name,
      dataType: r.type,
      dataTypeSchema: r.type_schema,
      isNullable: !r.not_null,
      hasDefaultValue: r.has_default,
      isAutoIncrementing: r.sequence !== null,
      ...(r.description === null ? {} : { comment: r.description }),
    })
  }
  return [...tables.values()]
}
