import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { DEPLOYABLES } from './deployables.ts'
import { exportedMetrics, unknownMetrics } from './metric-names.ts'
import type { Report } from './report.ts'

interface Panel {
  id?: number
  type?: string
  title?: string
  gridPos?: { x: number; w: number }
  datasource?: { uid?: string }
  targets?: { refId?: string; expr?: string }[]
}

/** The repository paths the checks read, relative to its root. */
export const PATHS = {
  datasources: 'deploy/grafana/provisioning/datasources/prometheus.yaml',
  providers: 'deploy/grafana/provisioning/dashboards/brewmesh.yaml',
  dashboards: 'deploy/grafana/dashboards',
  prometheus: 'deploy/prometheus/prometheus.yml',
  rules: 'deploy/prometheus/rules/brewmesh.rules.yml',
  observePrometheus: 'deploy/observe/prometheus.yml',
  compose: 'deploy/compose.yaml',
  collector: 'deploy/otel/collector.yaml',
} as const

type ScrapeConfigs = { job_name?: string; static_configs?: { targets?: string[]; labels?: Record<string, string> }[] }[]

/** Dashboards the README and deploy/README.md name. */
const REQUIRED_TITLES = ['brewmesh Services', 'brewmesh Operations', 'CustomerService Performance', 'Database Connections']

/** True when brackets balance: a cheap guard against a query cut in half (PromQL itself is not parsed here). */
export function balanced(expr: string): boolean {
  let depth = 0
  for (const ch of expr) {
    depth += '({['.includes(ch) ? 1 : ')}]'.includes(ch) ? -1 : 0
    if (depth < 0) return false
  }
  return depth === 0
}

/**
 * The observability files hang together: dashboards (valid JSON, unique uids and panel ids, on
 * the grid, provisioned datasources, balanced queries reading metrics the services export, the
 * required titles), the alert rules (metrics that exist or are recorded), Prometheus (every job
 * has targets; every deployable scraped in Compose and by scripts/up.sh --observe) and the
 * Collector's pipelines name defined components.
 */
export function validateObservability(repo: string): Report {
  const problems: string[] = []
  const bad = (msg: string) => problems.push(msg)
  const readYaml = <T>(path: string): T | undefined => {
    try {
      return parseYaml(readFileSync(join(repo, path), 'utf8')) as T
    } catch (err) {
      bad(`${path}: ${(err as Error).message}`)
      return undefined
    }
  }

  // Grafana: provisioning, then each dashboard.
  const datasources = readYaml<{ datasources?: { uid?: string }[] }>(PATHS.datasources)?.datasources ?? []
  const dsUids = new Set(datasources.map((x) => x.uid))
  const providers = readYaml<{ providers?: unknown[] }>(PATHS.providers)?.providers ?? []
  if (!providers.length) bad(`${PATHS.providers}: no dashboard provider`)
  const titles = new Set<string>()
  const uids = new Set<string>()
  const exported = exportedMetrics(repo)
  const files = readdirSync(join(repo, PATHS.dashboards)).filter((f) => f.endsWith('.json'))
  for (const f of files) {
    const where = `${PATHS.dashboards}/${f}`
    let dash: { uid?: string; title?: string; panels?: Panel[] }
    try {
      dash = JSON.parse(readFileSync(join(repo, where), 'utf8')) as typeof dash
    } catch (err) {
      bad(`${where}: ${(err as Error).message}`)
      continue
    }
    if (!dash.uid || uids.has(dash.uid)) bad(`${where}: missing or duplicate uid`)
    if (dash.uid) uids.add(dash.uid)
    if (dash.title) titles.add(dash.title)
    const ids = new Set<number | undefined>()
    for (const p of dash.panels ?? []) {
      if (ids.has(p.id)) bad(`${where}: duplicate panel id ${p.id}`)
      ids.add(p.id)
      if (p.type === 'row') continue
      if (!p.gridPos || p.gridPos.x + p.gridPos.w > 24) bad(`${where}: panel "${p.title}" does not fit the 24-column grid`)
      if (!dsUids.has(p.datasource?.uid)) bad(`${where}: panel "${p.title}" uses datasource ${p.datasource?.uid}, not provisioned`)
      if (!p.targets?.length) bad(`${where}: panel "${p.title}" has no query`)
      for (const t of p.targets ?? []) {
        const e = t.expr ?? ''
        if (!e.trim() || !balanced(e)) bad(`${where}: panel "${p.title}" query ${t.refId} is empty or unbalanced`)
        for (const name of unknownMetrics(e, exported))
          bad(`${where}: panel "${p.title}" query ${t.refId} reads ${name}, which no service exports`)
      }
    }
  }
  for (const t of REQUIRED_TITLES) if (!titles.has(t)) bad(`${PATHS.dashboards}: no dashboard titled "${t}"`)
  // Prometheus: every scrape job has targets; Compose's and scripts/up.sh --observe's scrape every
  // deployable as job brewmesh with its `service` label, on its metrics port, at a host that
  // exists (a Compose service; loopback for the local processes).
  const prom = readYaml<{ scrape_configs?: ScrapeConfigs }>(PATHS.prometheus)
  for (const job of prom?.scrape_configs ?? [])
    if (!job.job_name || !job.static_configs?.some((s) => s.targets?.length)) bad(`${PATHS.prometheus}: job ${job.job_name} has no targets`)
  const composeServices = new Set(Object.keys(readYaml<{ services?: object }>(PATHS.compose)?.services ?? {}))
  const local = readYaml<{ scrape_configs?: ScrapeConfigs }>(PATHS.observePrometheus)
  for (const [path, config, hostOk] of [
    [PATHS.prometheus, prom, (host: string) => composeServices.has(host)],
    [PATHS.observePrometheus, local, (host: string) => host === '127.0.0.1'],
  ] as const) {
    const statics = (config?.scrape_configs ?? []).filter((j) => j.job_name === 'brewmesh').flatMap((j) => j.static_configs ?? [])
    for (const [service, port] of Object.entries(DEPLOYABLES)) {
      const targets = statics.filter((c) => c.labels?.['service'] === service).flatMap((c) => c.targets ?? [])
      if (!targets.length) bad(`${path}: job brewmesh does not scrape ${service}`)
      for (const t of targets) {
        const [host = '', targetPort] = t.split(':')
        if (targetPort !== String(port) || !hostOk(host)) bad(`${path}: ${service} is scraped at ${t}, not at a known host on :${port}`)
      }
    }
  }

  // The alert and recording rules read metrics that exist, or that a rule records.
  const rules = readYaml<{ groups?: { rules?: { record?: string; alert?: string; expr?: string }[] }[] }>(PATHS.rules)?.groups ?? []
  const recorded = new Set(rules.flatMap((g) => g.rules ?? []).flatMap((r) => (r.record ? [r.record] : [])))
  for (const r of rules.flatMap((g) => g.rules ?? []))
    for (const name of unknownMetrics(r.expr ?? '', exported, recorded))
      bad(`${PATHS.rules}: ${r.alert ?? r.record} reads ${name}, which no service exports and no rule records`)

  // Collector: pipelines name defined receivers, processors and exporters.
  const otel = readYaml<
    Record<string, Record<string, unknown> | undefined> & { service?: { pipelines?: Record<string, Record<string, string[]>> } }
  >(PATHS.collector)
  for (const [name, p] of Object.entries(otel?.service?.pipelines ?? {}))
    for (const kind of ['receivers', 'processors', 'exporters'])
      for (const c of p[kind] ?? [])
        if (!(c in (otel?.[kind] ?? {}))) bad(`${PATHS.collector}: pipeline ${name} uses undefined ${kind.slice(0, -1)} ${c}`)
  return {
    problems,
    summary: `${files.length} dashboards and the alert rules read exported metrics; Prometheus and Collector configs consistent`,
  }
}
