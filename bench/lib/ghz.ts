import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { runInherited, shellQuote } from './command.ts'
import { note } from './log.ts'
import { REPO } from './repo.ts'

export const GHZ = join(REPO, '.stack/bin/ghz')
/** Every brewmesh service's descriptors, for `--protoset`. */
export const PROTOSET = join(REPO, 'gen/descriptors.binpb')

const run = promisify(execFile)

/** ghz's version; runs `scripts/tools.sh` first when .stack/bin/ghz is missing. */
export async function ensureGhz(): Promise<string> {
  if (!existsSync(GHZ)) {
    note('no .stack/bin/ghz: bash scripts/tools.sh')
    await runInherited('bash', ['scripts/tools.sh'])
  }
  const { stdout, stderr } = await run(GHZ, ['--version'])
  return (stdout || stderr).trim()
}

/** The parts of ghz's JSON report that are read (durations in nanoseconds). */
interface GhzReport {
  count: number
  total: number
  average: number
  rps: number
  latencyDistribution: { percentage: number; latency: number }[] | null
  statusCodeDistribution: Record<string, number> | null
  errorDistribution: Record<string, number> | null
  /** Every answer, whatever its status (ghz keeps up to a million). */
  details: { latency: number; status: string }[] | null
}

/** One ghz run, summarized. Latency percentiles are of OK answers only (ghz's default). */
export interface GhzResult {
  count: number
  seconds: number
  /** Answers of any status per second. */
  rps: number
  ok: number
  okPerSecond: number
  avgMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  /** The slowest answer of any status: an error answered at its deadline counts too. */
  slowestMs: number
  /** Answers per gRPC status, by the canonical names (OK, UNAVAILABLE, DEADLINE_EXCEEDED, ...). */
  codes: Record<string, number>
  errors: number
  errorSamples: string[]
}

const ms = (ns: number) => ns / 1e6

// ghz names codes the Go way (DeadlineExceeded, Canceled); reports use the names of the gRPC spec.
const codeName = (ghzName: string) => (ghzName === 'Canceled' ? 'CANCELLED' : ghzName.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase())

function percentileOf(report: GhzReport, percentage: number): number {
  const found = report.latencyDistribution?.find((d) => d.percentage === percentage)
  return found ? ms(found.latency) : Number.NaN
}

function summarize(report: GhzReport): GhzResult {
  const codes = Object.fromEntries(Object.entries(report.statusCodeDistribution ?? {}).map(([code, n]) => [codeName(code), n]))
  const ok = codes['OK'] ?? 0
  const seconds = report.total / 1e9
  return {
    count: report.count,
    seconds,
    rps: report.rps,
    ok,
    okPerSecond: ok / seconds,
    avgMs: ms(report.average),
    p50Ms: percentileOf(report, 50),
    p95Ms: percentileOf(report, 95),
    p99Ms: percentileOf(report, 99),
    slowestMs: ms((report.details ?? []).reduce((max, d) => Math.max(max, d.latency), 0)),
    codes,
    errors: report.count - ok,
    errorSamples: Object.keys(report.errorDistribution ?? {}).slice(0, 3),
  }
}

/**
 * Runs ghz with `args` (plus the JSON report options) from the repository root and summarizes its
 * report. `env` replaces ghz's environment (templates may read it with `env`); `signal` kills ghz.
 */
export async function runGhz(args: string[], options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<GhzResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'brewmesh-ghz-'))
  try {
    const out = join(scratch, 'ghz.json')
    await run(GHZ, [...args, '-O', 'json', '-o', out], { cwd: REPO, maxBuffer: 16 * 1024 * 1024, ...options })
    return summarize(JSON.parse(readFileSync(out, 'utf8')) as GhzReport)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/**
 * `--duration` with how calls still in flight at the end are reported: `ignore` leaves them out,
 * `wait` lets them finish (within their timeout) and counts them. The default, close, would
 * report each of them as UNAVAILABLE ("use of closed network connection").
 */
export const forDuration = (duration: string, stop: 'ignore' | 'wait' = 'ignore') => ['--duration', duration, '--duration-stop', stop]

/** The ghz command line as it can be pasted into a shell from the repository root. */
export const ghzCommandLine = (args: string[]) => ['.stack/bin/ghz', ...args].map(shellQuote).join(' ')

/** "OK 1200, UNAVAILABLE 3": status counts, OK first, then by count. */
export function describeCodes(codes: Record<string, number>): string {
  const entries = Object.entries(codes).sort(([a, x], [b, y]) => (a === 'OK' ? -1 : b === 'OK' ? 1 : y - x))
  return entries.length ? entries.map(([code, n]) => `${code} ${n}`).join(', ') : 'none'
}
