/**
 * ImportCustomers (client streaming) on the Customer service against a bare `pg` loop of
 * single-row INSERTs, each in its own transaction, into a scratch table with the same columns
 * and unique indexes. Also samples this process's memory during the import, to show whether the
 * service's heap stays flat while rows stream through. A report, not a test: it prints and saves
 * the numbers and exits 0 whatever they are.
 *
 *   pnpm --filter @brewmesh/bench bench:import
 *   BENCH_IMPORT_ROWS=20000 pnpm exec node --expose-gc bench/customer-import.bench.ts
 *
 * Settings (environment): BENCH_IMPORT_ROWS (100000), BENCH_IMPORT_WARMUP (1000 rows per target,
 * thrown away), BENCH_SAMPLE_MS (500).
 */
import { once } from 'node:events'
import { relative } from 'node:path'
import { performance } from 'node:perf_hooks'
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { credentials, Metadata } from '@grpc/grpc-js'
import {
  CustomerServiceClient,
  type ImportCustomersRequest,
  type ImportCustomersResponse,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { migrateCustomer, startApp } from '@brewmesh/customer/src/app.ts'
import { readConfig } from '@brewmesh/customer/src/config.ts'
import { createLogger } from '@brewmesh/runtime/logger.ts'
import type { RunningService } from '@brewmesh/runtime/service'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { reproduceCommand } from './lib/command.ts'
import { ensureInfra } from './lib/infra.ts'
import { interruptOnSignals } from './lib/interrupt.ts'
import { note } from './lib/log.ts'
import { describeMachine, loadNow, machineInfo } from './lib/machine.ts'
import { fmt, markdownTable } from './lib/markdown.ts'
import { runBench } from './lib/main.ts'
import { pgClient, type PgClient } from './lib/pg.ts'
import { REPO } from './lib/repo.ts'
import { saveResults } from './lib/results.ts'

const RESULTS_FILE = 'customer-import.json'
const BARE_TABLE = 'bench_bare_customers'

const settings = {
  rows: Number(process.env['BENCH_IMPORT_ROWS'] ?? 100_000),
  warmup: Number(process.env['BENCH_IMPORT_WARMUP'] ?? 1000),
  sampleMs: Number(process.env['BENCH_SAMPLE_MS'] ?? 500),
  exposeGc: typeof globalThis.gc === 'function',
}
const SETTING_VARS = ['BENCH_IMPORT_ROWS', 'BENCH_IMPORT_WARMUP', 'BENCH_SAMPLE_MS']

// Ctrl-C or SIGTERM stops the row loops, so the app still stops and the schema is still dropped.
const interrupt = interruptOnSignals()

// ------------------------------------------------------------------ setup ----

/**
 * A bearer token for the import, for a service that verifies tokens (AUTH_* settings): an ES256
 * key pair made here, its public key given to the service, a token with the operator role signed
 * with node:crypto. A service without authentication ignores both.
 */
function benchAuth(): { env: Record<string, string>; metadata: () => Metadata } {
  const issuer = 'brewmesh-bench'
  const audience = 'brewmesh'
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const unsigned = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({ sub: 'bench-import', roles: ['operator'], iss: issuer, aud: audience, iat: now, exp: now + 6 * 3600 })}`
  const signature = sign('sha256', Buffer.from(unsigned), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')
  const token = `${unsigned}.${signature}`
  return {
    env: { AUTH_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(), AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience },
    metadata: () => {
      const metadata = new Metadata()
      metadata.set('authorization', `Bearer ${token}`)
      return metadata
    },
  }
}

// ------------------------------------------------------------------- rows ----

/** Row i of a series: unique username and email per prefix (usernames: 3-32 of a-z, 0-9, _ . -). */
function importRow(prefix: string, i: number): ImportCustomersRequest {
  const username = `${prefix}_${i}`
  return {
    rowNumber: String(i),
    username,
    displayName: `Member ${i}`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: `${username}@example.com`,
    phone: `+1415${String(5_000_000 + (i % 5_000_000)).padStart(7, '0')}`,
    preferences: undefined,
    dietaryRestrictions: [],
    householdId: '',
  }
}

// What the service stores for a row without preferences (domain/customers.ts newCustomer).
const DEFAULT_PREFERENCES = JSON.stringify({ likes: [], decafOnly: false })

const BARE_INSERT = `insert into ${BARE_TABLE} (id, username, display_name, first_name, last_name, email, phone, preferences,
  dietary_restrictions, household_id, active, registered_at, last_login_at, version, updated_at)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, null, true, $10, null, 1, $10)`

/** The same columns, primary key and unique indexes as the service's `customers` table (migration 0001). */
async function createBareTable(client: PgClient): Promise<void> {
  await client.query(`create table ${BARE_TABLE} (like customers including defaults)`)
  await client.query(`alter table ${BARE_TABLE} add primary key (id)`)
  await client.query(`create unique index ${BARE_TABLE}_email_unique on ${BARE_TABLE} (lower(email))`)
  await client.query(`create unique index ${BARE_TABLE}_username_unique on ${BARE_TABLE} (username)`)
}

// ----------------------------------------------------------------- memory ----

interface Sample {
  tMs: number
  /** Rows whose write the client saw flushed (write callback). */
  written: number
  /** Rows the database has (outbox sequence for the import, the loop's count for bare pg). */
  stored: number
  heapUsed: number
  rss: number
}

interface Sampler {
  samples: Sample[]
  /** Time spent in forced collections (global.gc), which the measured run pays for. */
  gcMs: number
  stop(): Promise<void>
}

function memory(tMs: number, written: number, stored: number): Sample {
  const { heapUsed, rss } = process.memoryUsage()
  return { tMs, written, stored, heapUsed, rss }
}

/** Every `sampleMs`: a forced GC when --expose-gc is on, then process.memoryUsage() and progress. */
function startSampler(progress: () => { written: number; stored: () => Promise<number> }, onSample?: (s: Sample) => void): Sampler {
  const started = performance.now()
  const sampler: Sampler = { samples: [], gcMs: 0, stop: async () => undefined }
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let pending: Promise<void> = Promise.resolve()
  const tick = async () => {
    const gcStart = performance.now()
    globalThis.gc?.()
    sampler.gcMs += performance.now() - gcStart
    const { written, stored } = progress()
    const sample = memory(performance.now() - started, written, 0)
    sample.stored = await stored()
    sampler.samples.push(sample)
    onSample?.(sample)
  }
  const schedule = () => {
    timer = setTimeout(() => {
      pending = tick()
        .catch((err: unknown) => void note(`sample failed: ${(err as Error).message}`))
        .finally(() => void (stopped || schedule()))
    }, settings.sampleMs)
  }
  schedule()
  sampler.stop = async () => {
    stopped = true
    clearTimeout(timer)
    await pending
  }
  return sampler
}

/** A forced GC (when exposed) and one memory reading, outside the sampler. */
function settledMemory(written: number, stored: number): Sample {
  globalThis.gc?.()
  return memory(0, written, stored)
}

// ---------------------------------------------------------------- targets ----

interface Measured {
  rows: number
  seconds: number
  rowsPerSecond: number
  /** 1-minute load average when the run began: other work on the machine shows up here. */
  loadBefore: number
}

/** Single-row INSERTs, each in its own transaction (BEGIN, INSERT, COMMIT), one connection. */
async function bareInsert(client: PgClient, prefix: string, rows: number, onRow?: (i: number) => void): Promise<Measured> {
  const loadBefore = loadNow()
  const started = performance.now()
  for (let i = 1; i <= rows; i++) {
    interrupt.signal.throwIfAborted()
    const r = importRow(prefix, i)
    const now = new Date()
    await client.query('begin')
    await client.query(BARE_INSERT, [
      randomUUID(),
      r.username,
      r.displayName,
      r.firstName,
      r.lastName,
      r.email,
      r.phone,
      DEFAULT_PREFERENCES,
      r.dietaryRestrictions,
      now,
    ])
    await client.query('commit')
    onRow?.(i)
  }
  const seconds = (performance.now() - started) / 1000
  return { rows, seconds, rowsPerSecond: rows / seconds, loadBefore }
}

/**
 * Streams `rows` rows through one ImportCustomers call, with backpressure: when call.write()
 * returns false, the next row is made only after 'drain'. Rows are made one at a time, so the
 * client holds at most the stream's buffer (highWaterMark) plus what HTTP/2 flow control admits.
 */
async function streamImport(
  client: CustomerServiceClient,
  metadata: Metadata,
  prefix: string,
  rows: number,
  onWritten?: () => void,
): Promise<Measured & { response: ImportCustomersResponse; drains: number }> {
  const loadBefore = loadNow()
  const started = performance.now()
  let drains = 0
  let settle!: { resolve: (r: ImportCustomersResponse) => void; reject: (err: Error) => void }
  const done = new Promise<ImportCustomersResponse>((resolve, reject) => (settle = { resolve, reject }))
  const call = client.importCustomers(metadata, (err, response) => (err ? settle.reject(err) : settle.resolve(response)))
  // A failed call never drains: wait for whichever comes first.
  const failed = done.then(
    () => undefined,
    () => undefined,
  )
  for (let i = 1; i <= rows; i++) {
    if (interrupt.signal.aborted) break
    if (!call.write(importRow(prefix, i), onWritten)) {
      drains += 1
      await Promise.race([once(call, 'drain'), failed, interrupt.stopped])
    }
  }
  call.end()
  await Promise.race([failed, interrupt.stopped])
  if (interrupt.signal.aborted) call.cancel()
  interrupt.signal.throwIfAborted()
  const response = await done
  const seconds = (performance.now() - started) / 1000
  return { rows, seconds, rowsPerSecond: rows / seconds, loadBefore, response, drains }
}

// ---------------------------------------------------------------- report ----

const mib = (bytes: number) => bytes / 2 ** 20

/**
 * Heap and RSS over the import: before, at the first sample past 10% of rows stored, at the last
 * sample while the call was still open, after the response (the call's state released), max.
 */
function memorySummary(samples: Sample[], before: Sample, end: Sample, rows: number) {
  const all = [...samples, end]
  const at10 = samples.find((s) => s.stored >= rows / 10) ?? end
  const maxHeap = Math.max(...all.map((s) => s.heapUsed))
  const maxRss = Math.max(...all.map((s) => s.rss))
  const rowsAfter10 = Math.max(1, end.stored - at10.stored)
  const last = samples.at(-1) ?? end
  return {
    samples: samples.length,
    heapUsedBeforeMiB: mib(before.heapUsed),
    heapUsedAt10pctMiB: mib(at10.heapUsed),
    heapUsedAt10pctRows: at10.stored,
    heapUsedLastOpenMiB: mib(last.heapUsed),
    heapUsedLastOpenRows: last.stored,
    /** Growth per row while the call is open: what a longer stream would add. */
    heapGrowthOpenBytesPerRow: (last.heapUsed - at10.heapUsed) / Math.max(1, last.stored - at10.stored),
    heapUsedEndMiB: mib(end.heapUsed),
    heapUsedMaxMiB: mib(maxHeap),
    heapGrowth10pctToEndMiB: mib(end.heapUsed - at10.heapUsed),
    heapGrowthBytesPerRow: (end.heapUsed - at10.heapUsed) / rowsAfter10,
    rssBeforeMiB: mib(before.rss),
    rssAt10pctMiB: mib(at10.rss),
    rssLastOpenMiB: mib(last.rss),
    rssEndMiB: mib(end.rss),
    rssMaxMiB: mib(maxRss),
    /** Most rows the client had flushed that the database did not have yet, over all samples. */
    maxRowsInFlight: Math.max(0, ...samples.map((s) => s.written - s.stored)),
  }
}

interface Report {
  startedAt: Date
  bareRun: Measured
  imported: Awaited<ReturnType<typeof streamImport>>
  ratio: number
  before: Sample
  end: Sample
  mem: ReturnType<typeof memorySummary>
  gcMs: number
  outboxPending: number
  machine: ReturnType<typeof machineInfo> & { postgres: Record<string, string> }
  command: string
  saved: string
}

function report({ startedAt, bareRun, imported, ratio, before, end, mem, gcMs, outboxPending, machine, command, saved }: Report): string[] {
  const right = (title: string) => ({ title, align: 'right' as const })
  const { postgres } = machine
  return [
    `## Customer ImportCustomers vs bare pg INSERT loop (${startedAt.toISOString().slice(0, 10)})`,
    '',
    `${settings.rows} rows each, after a ${settings.warmup}-row warmup per target; one connection / one call; ` +
      `memory sampled every ${settings.sampleMs} ms${settings.exposeGc ? ' after a forced GC' : ' (no --expose-gc: no forced GC)'}.`,
    '',
    ...markdownTable(
      ['target', right('rows/s'), right('seconds'), right('failed'), right('load before')],
      [
        ['bare pg (BEGIN, INSERT, COMMIT per row)', fmt(bareRun.rowsPerSecond, 0), fmt(bareRun.seconds, 1), '0', fmt(bareRun.loadBefore)],
        [
          'ImportCustomers (client stream)',
          fmt(imported.rowsPerSecond, 0),
          fmt(imported.seconds, 1),
          imported.response.failed,
          fmt(imported.loadBefore),
        ],
      ],
    ),
    '',
    `import / bare pg: **${fmt(ratio)}x** rows/s`,
    '',
    ...markdownTable(
      ['memory of this process (service + client)', right('heapUsed MiB'), right('rss MiB')],
      [
        ['before the import', fmt(mib(before.heapUsed), 1), fmt(mib(before.rss), 1)],
        [`after 10% of rows (${mem.heapUsedAt10pctRows} stored)`, fmt(mem.heapUsedAt10pctMiB, 1), fmt(mem.rssAt10pctMiB, 1)],
        [
          `last sample with the call open (${mem.heapUsedLastOpenRows} stored)`,
          fmt(mem.heapUsedLastOpenMiB, 1),
          fmt(mem.rssLastOpenMiB, 1),
        ],
        [`after the response (${end.stored} stored)`, fmt(mem.heapUsedEndMiB, 1), fmt(mem.rssEndMiB, 1)],
        [`max over ${mem.samples} samples`, fmt(mem.heapUsedMaxMiB, 1), fmt(mem.rssMaxMiB, 1)],
      ],
    ),
    '',
    `Heap growth per row from 10% on: ${fmt(mem.heapGrowthOpenBytesPerRow, 0)} bytes while the call is open, ` +
      `${fmt(mem.heapGrowthBytesPerRow, 0)} bytes after the response (${fmt(mem.heapGrowth10pctToEndMiB, 1)} MiB). ` +
      `At most ${mem.maxRowsInFlight} rows were flushed by the client and not yet stored; the client waited for 'drain' ${imported.drains} times. ` +
      `Forced GC took ${fmt(gcMs / 1000, 1)} s of the import's ${fmt(imported.seconds, 1)} s. Outbox rows not yet published at the end: ${outboxPending}.`,
    '',
    `Machine: ${describeMachine(machine)}, ` +
      `PostgreSQL ${postgres['server_version']} (fsync ${postgres['fsync']}, synchronous_commit ${postgres['synchronous_commit']}).`,
    '',
    `Reproduce: \`${command}\``,
    '',
    `Saved: ${relative(REPO, saved)} (with every memory sample).`,
  ]
}

// ------------------------------------------------------------------- main ----

async function main(): Promise<void> {
  const startedAt = new Date()
  if (!settings.exposeGc) note('node runs without --expose-gc: samples include garbage not yet collected')
  const { infra, source } = await ensureInfra()

  const auth = benchAuth()
  const env = isolatedEnv('customer', infra, { LOG_LEVEL: 'silent', HEALTH_INTERVAL_MS: '2000', ...auth.env })
  const config = readConfig(env)
  note(`infra from ${source}; schema ${env['DB_SCHEMA']}; migrating`)
  await migrateCustomer(config, createLogger({ level: 'silent', service: 'bench', instanceId: 'bench' }))

  let app: RunningService | undefined
  let client: CustomerServiceClient | undefined
  const bare = pgClient(env, 'brewmesh-bench-import')
  const probe = pgClient(env, 'brewmesh-bench-import')
  try {
    await bare.connect()
    await probe.connect()
    await createBareTable(bare)
    const postgres: Record<string, string> = {}
    for (const name of ['server_version', 'fsync', 'synchronous_commit', 'wal_level']) {
      postgres[name] = String((await probe.query<Record<string, string>>(`show ${name}`)).rows[0]?.[name])
    }

    app = await startApp(config)
    const feed = await Promise.race([app.ready.then(() => 'ready'), new Promise((r) => setTimeout(r, 30_000, 'not ready').unref())])
    if (feed !== 'ready') note('the customer event feed did not join its group within 30 s; measuring anyway')
    client = new CustomerServiceClient(`127.0.0.1:${app.grpcPort}`, credentials.createInsecure())
    const c = client

    // Rows the service has stored so far: one outbox row per created customer, read from the sequence.
    const outboxRows = async () => {
      const { rows } = await probe.query<{ n: string }>(`select case when is_called then last_value else 0 end as n from outbox_id_seq`)
      return Number(rows[0]?.n ?? 0)
    }

    const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`
    if (settings.warmup > 0) {
      note(`warmup: ${settings.warmup} rows each (thrown away)`)
      await bareInsert(bare, `w${tag}`, settings.warmup)
      await streamImport(c, auth.metadata(), `w${tag}`, settings.warmup)
    }
    const importBase = await outboxRows()

    // Bare pg first, then the import; the sampler runs (and forces GC) during both, so both pay for it.
    note(`bare pg: ${settings.rows} single-row INSERT transactions into ${BARE_TABLE}`)
    let bareDone = 0
    const bareSampler = startSampler(() => ({ written: bareDone, stored: async () => bareDone }))
    const bareRun = await bareInsert(bare, `r${tag}`, settings.rows, (i) => (bareDone = i))
    await bareSampler.stop()
    note(`bare pg: ${fmt(bareRun.rowsPerSecond, 0)} rows/s (${fmt(bareRun.seconds, 1)} s, load ${fmt(bareRun.loadBefore)} before)`)

    note(`import: ${settings.rows} rows through one ImportCustomers call`)
    let written = 0
    const before = settledMemory(0, 0)
    let nextTenth = 1
    const sampler = startSampler(
      () => ({ written, stored: async () => (await outboxRows()) - importBase }),
      (s) => {
        if (s.stored < (settings.rows * nextTenth) / 10) return
        nextTenth = Math.floor((s.stored * 10) / settings.rows) + 1
        note(`  ${s.stored} rows stored, ${fmt(s.stored / (s.tMs / 1000), 0)} rows/s so far, heapUsed ${fmt(mib(s.heapUsed), 1)} MiB`)
      },
    )
    const imported = await streamImport(c, auth.metadata(), `r${tag}`, settings.rows, () => (written += 1))
    await sampler.stop()
    const end = settledMemory(written, (await outboxRows()) - importBase)
    const mem = memorySummary(sampler.samples, before, end, settings.rows)
    const r = imported.response
    note(
      `import: ${fmt(imported.rowsPerSecond, 0)} rows/s (${fmt(imported.seconds, 1)} s, load ${fmt(imported.loadBefore)} before); ` +
        `created ${r.created}, failed ${r.failed}, ${imported.drains} waits for drain`,
    )
    if (r.failed !== '0')
      note(
        `  failures: ${r.failures
          .slice(0, 3)
          .map((f) => `row ${f.rowNumber}: ${f.reason}`)
          .join(' | ')}`,
      )
    const outboxPending = Number(
      (await probe.query<{ n: string }>('select count(*) as n from outbox where published_at is null')).rows[0]?.n ?? 0,
    )

    const ratio = imported.rowsPerSecond / bareRun.rowsPerSecond
    const machine = { ...machineInfo(), postgres }
    const command = reproduceCommand('bench/customer-import.bench.ts', SETTING_VARS, settings.exposeGc ? ['--expose-gc'] : [])
    const { failures: _failures, ...counts } = r
    const saved = saveResults(RESULTS_FILE, {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      settings,
      machine,
      infra: source,
      bare: { ...bareRun, gcMs: bareSampler.gcMs, samples: bareSampler.samples },
      import: {
        ...imported,
        response: { ...counts, failureSamples: r.failures.slice(0, 10) },
        gcMs: sampler.gcMs,
        outboxPendingAtEnd: outboxPending,
        memory: mem,
        samples: sampler.samples,
      },
      ratio,
      command,
    })
    const lines = report({
      startedAt,
      bareRun,
      imported,
      ratio,
      before,
      end,
      mem,
      gcMs: sampler.gcMs,
      outboxPending,
      machine,
      command,
      saved,
    })
    process.stdout.write(lines.join('\n') + '\n')
  } finally {
    client?.close()
    await app?.stop()
    await bare.end().catch(() => undefined)
    await probe.end().catch(() => undefined)
    // The scratch table lives in the isolated schema and goes with it.
    await dropSchema(env).catch((err: unknown) => note(`could not drop schema ${env['DB_SCHEMA']}: ${(err as Error).message}`))
  }
}

await runBench(main)
