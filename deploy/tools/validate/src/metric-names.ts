import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Metrics from elsewhere that queries may read: Prometheus's own `up`, postgres-exporter (`pg_`),
 * kafka-exporter (`kafka_`) and kube-state-metrics (`kube_`).
 */
const EXTERNAL = [/^up$/, /^pg_/, /^kafka_/, /^kube_/]

/** The values a dashboard's $service variable takes, for names built from it. */
const SERVICES = ['order', 'customer', 'loyalty', 'favorites']

// What a meter creates, and the names Prometheus shows for it (OpenTelemetry's Prometheus exporter).
const INSTRUMENT =
  /\.create(Counter|UpDownCounter|Histogram|Gauge|ObservableGauge|ObservableCounter|ObservableUpDownCounter)\(\s*(['`])([^'`]+)\2/g
const SUFFIXES: Record<string, string[]> = {
  Counter: ['_total'],
  ObservableCounter: ['_total'],
  Histogram: ['_bucket', '_sum', '_count'],
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'test' ? [] : sources(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

/**
 * The metric names the services export, read from their sources (`meter.createCounter('name')`,
 * with `${service}` in a name standing for each of the four services): one pattern per name
 * Prometheus shows.
 */
export function exportedMetrics(repo: string): RegExp[] {
  const patterns: RegExp[] = []
  for (const dir of readdirSync(join(repo, 'services'))) {
    const src = join(repo, 'services', dir, 'src')
    let files: string[]
    try {
      files = sources(src)
    } catch {
      continue
    }
    for (const file of files)
      for (const [, kind = '', , name = ''] of readFileSync(file, 'utf8').matchAll(INSTRUMENT)) {
        const base = name
          .split(/\$\{[^}]*\}/)
          .map((part) => part.replace(/[.*+?^()|[\]\\]/g, '\\$&'))
          .join(`(?:${SERVICES.join('|')})`)
        for (const suffix of SUFFIXES[kind] ?? ['']) patterns.push(new RegExp(`^${base}${suffix}$`))
      }
  }
  return patterns
}

// PromQL words that are not metric names.
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
])

/**
 * The metric names a PromQL query (with Grafana's variables) reads: bare names, and `__name__`
 * matchers, where ${service:pipe} and ${service:regex} stand for each service in turn and a
 * leading group of alternatives, `(a|b)_x`, for each of them. A `__name__` regex that is still a
 * pattern after that is not a name and is left out.
 */
export function metricsOf(expr: string): string[] {
  const names = new Set<string>()
  for (const [, value = ''] of expr.matchAll(/__name__\s*=~?\s*"([^"]*)"/g)) {
    const [, alternatives, rest] = /^\(([\w|]+)\)([\w:]*)$/.exec(value) ?? []
    const candidates = alternatives
      ? alternatives.split('|').map((a) => a + rest)
      : SERVICES.map((service) => value.replace(/\(?\$\{service:(pipe|regex)\}\)?/g, service))
    for (const name of candidates) if (/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) names.add(name)
  }
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
  // Whole words only (\b), so that `sum(` is a function, not the name `su`.
  for (const [, name = ''] of bare.matchAll(/(?<![\w$.:])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g))
    if (!KEYWORDS.has(name.toLowerCase())) names.add(name)
  return [...names]
}

/** The names of `metricsOf(expr)` that neither a service exports, nor a rule records, nor an exporter we run provides. */
export function unknownMetrics(expr: string, exported: readonly RegExp[], recorded: ReadonlySet<string> = new Set()): string[] {
  return metricsOf(expr).filter((n) => !recorded.has(n) && ![...exported, ...EXTERNAL].some((p) => p.test(n)))
}
