import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { InfraEnv } from './infra.ts'

/**
 * The environment a service under test reads: the shared servers, plus its own schema, topic
 * suffix, key prefix and instance id, so test files run in parallel without seeing each other.
 */
export function isolatedEnv(service: string, infra: InfraEnv, extra: Record<string, string> = {}): Record<string, string> {
  const id = randomUUID().replaceAll('-', '').slice(0, 10)
  return {
    ...infra,
    APP_ENV: 'test',
    DB_NAME: `${service}db`,
    DB_SCHEMA: `${service}_t${id}`,
    DB_POOL_MAX: '10',
    KAFKA_TOPIC_SUFFIX: `.t${id}`,
    VALKEY_KEY_PREFIX: `t${id}`,
    INSTANCE_ID: `${service}-t${id}`,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    HEALTH_INTERVAL_MS: '200',
    SHUTDOWN_GRACE_MS: '2000',
    // Tests write far faster than people; the limit has its own test.
    RATE_LIMIT_WRITES: '100000',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...deployedNodeOptions(service),
    ...extra,
  }
}

/**
 * NODE_OPTIONS a service is deployed with, where it has its own: the same in its Kubernetes
 * config (deploy/k8s/base/config), deploy/compose.yaml and scripts/up.sh
 * (deploy/tools/validate/test/node-options.test.ts holds them together). A service started as a
 * process gets them; one started inside a test's own process ignores them.
 */
export const DEPLOYED_NODE_OPTIONS: Readonly<Record<string, string>> = {
  // V8 grows a young generation with what survives collection and keeps it for as long as the
  // process lives: a load grew each service's to 2 x 64 MiB (held idle afterwards), and opening
  // thousands of WatchOrder streams the Order Service's. At 2 x 32 MiB a service holds 20 to 74
  // MiB less after a load and the Order Service's streams take 50 to 110 MiB less, at no
  // measurable CPU per order (bench/README.md, place-order and watch-streams, sixteenth and
  // seventeenth sessions); a 2 x 16 MiB one costs CPU and the 200/s tail.
  customer: '--max-semi-space-size=32',
  favorites: '--max-semi-space-size=32',
  loyalty: '--max-semi-space-size=32',
  order: '--max-semi-space-size=32',
}

const deployedNodeOptions = (service: string): Record<string, string> => {
  const options = DEPLOYED_NODE_OPTIONS[service]
  return options ? { NODE_OPTIONS: options } : {}
}

/** A connection to the test's database, closed after `work`. */
async function withClient<T>(env: Record<string, string>, work: (client: pg.Client) => Promise<T>, searchPath?: string): Promise<T> {
  const client = new pg.Client({
    host: env['DB_HOST'],
    port: Number(env['DB_PORT']),
    user: env['DB_USER'],
    password: env['DB_PASSWORD'],
    database: env['DB_NAME'],
    ...(searchPath ? { options: `-c search_path=${searchPath}` } : {}),
  })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** Drops a test's schema (and everything in it) at the end of the file. */
export async function dropSchema(env: Record<string, string>): Promise<void> {
  await withClient(env, (client) => client.query(`drop schema if exists "${env['DB_SCHEMA']}" cascade`))
}

/** Polls until `check` passes (it throws until then); for effects that arrive asynchronously. */
export async function eventually<T>(check: () => Promise<T> | T, { timeoutMs = 20_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  }
}

/** Runs one SQL statement in the test's database (assertions on tables the service owns). */
export async function sqlQuery<Row>(env: Record<string, string>, text: string, values: unknown[] = []): Promise<Row[]> {
  return withClient(env, async (client) => (await client.query(text, values)).rows as Row[], env['DB_SCHEMA'])
}

/** A table scan in a query plan: its node ('Seq Scan', 'Index Scan', ...), its table and its index (if any). */
export interface PlanScan {
  node: string
  relation: string
  index?: string
}

/**
 * The scans of the generic plan PostgreSQL makes for `text` in the test's schema, as its tables are
 * now. The services run every statement with parameters as a named prepared statement (runtime
 * db/send-statements.ts), and PostgreSQL may keep one plan for it that does not know the values:
 * this is that plan. `values` are the parameters the statement runs with.
 */
export async function genericPlanScans(env: Record<string, string>, text: string, values: readonly unknown[]): Promise<PlanScan[]> {
  return withClient(
    env,
    async (client) => {
      await client.query('set plan_cache_mode = force_generic_plan')
      await client.query(`prepare generic_plan as ${text}`)
      // EXPLAIN takes no parameters: the values go into its EXECUTE as literals.
      const args = values.length > 0 ? `(${values.map((v) => literal(client, v)).join(', ')})` : ''
      const { rows } = await client.query(`explain (format json) execute generic_plan${args}`)
      return scansOf((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan)
    },
    env['DB_SCHEMA'],
  )
}

function literal(client: pg.Client, value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (value instanceof Date) return client.escapeLiteral(value.toISOString())
  if (typeof value === 'string') return client.escapeLiteral(value)
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value)
  throw new Error(`genericPlanScans: no literal for a parameter of type ${typeof value}`)
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  Plans?: PlanNode[]
}

// A bitmap index scan names its index only; its table is the bitmap heap scan's above it.
const scansOf = (node: PlanNode): PlanScan[] => [
  ...(node['Relation Name'] || node['Index Name']
    ? [{ node: node['Node Type'], relation: node['Relation Name'] ?? '', ...(node['Index Name'] ? { index: node['Index Name'] } : {}) }]
    : []),
  ...(node.Plans ?? []).flatMap(scansOf),
]

/** A statement as a service sent it. */
export interface SentStatement {
  text: string
  values: readonly unknown[]
}

/**
 * Records the statements `pool`'s connections send (make it before the pool's first query):
 * `during(work)` returns those sent while `work` ran.
 */
export function statementRecorder(pool: pg.Pool): { during(work: () => Promise<unknown>): Promise<SentStatement[]> } {
  let sent: SentStatement[] | undefined
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    ;(client as { query: unknown }).query = (...args: unknown[]) => {
      const [first, second] = args as [string | { text: string; values?: unknown[] }, unknown]
      if (typeof first === 'string') sent?.push({ text: first, values: Array.isArray(second) ? second : [] })
      else sent?.push({ text: first.text, values: first.values ?? [] })
      return query(...args)
    }
  })
  return {
    async during(work) {
      sent = []
      try {
        await work()
        return sent
      } finally {
        sent = undefined
      }
    },
  }
}
