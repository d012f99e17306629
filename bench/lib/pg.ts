import { createRequire } from 'node:module'
import type pgModule from 'pg'

// bench/ has no `pg` dependency of its own: load the testkit's (the same pg the services use), so
// the workspace lockfile does not change for a benchmark.
const pg = createRequire(import.meta.resolve('@brewmesh/testkit/env.ts'))('pg') as typeof pgModule

export type PgClient = pgModule.Client

/** A connection to a service's database (DB_* of its environment), its schema first on the search path. */
export function pgClient(env: Record<string, string>, applicationName: string): PgClient {
  return new pg.Client({
    host: env['DB_HOST'],
    port: Number(env['DB_PORT']),
    user: env['DB_USER'],
    password: env['DB_PASSWORD'],
    database: env['DB_NAME'],
    options: `-c search_path=${env['DB_SCHEMA']}`,
    application_name: applicationName,
  })
}
