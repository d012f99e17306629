import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { PATHS } from './observability.ts'

// Grafana's variables, as a query sees them once Grafana has filled them in.
const VARIABLES: [RegExp, string][] = [
  [/\$\{service:(pipe|regex)\}/g, 'order|customer|loyalty|favorites'],
  [/\$__rate_interval|\$__interval/g, '1m'],
  [/\$__range/g, '1h'],
]

/** A dashboard query with Grafana's variables filled in, so that Prometheus can parse it. */
export function filledIn(expr: string): string {
  return VARIABLES.reduce((e, [variable, value]) => e.replace(variable, value), expr)
}

/**
 * Every dashboard query as a recording rule, for `promtool check rules` to parse offline: the
 * dashboards' PromQL checked by Prometheus's own parser, without a server.
 */
export function dashboardRules(repo: string): string {
  const dir = join(repo, PATHS.dashboards)
  const rules = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const dash = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        uid?: string
        panels?: { id?: number; targets?: { refId?: string; expr?: string }[] }[]
      }
      return (dash.panels ?? []).flatMap((p) =>
        (p.targets ?? []).map((t) => ({
          record: `dashboard:${(dash.uid ?? f).replace(/\W/g, '_')}:panel_${p.id}_${t.refId}`,
          expr: filledIn(t.expr ?? ''),
        })),
      )
    })
  return `# Generated from ${PATHS.dashboards} for promtool check rules (scripts/deploy-check.sh).\n${stringify({ groups: [{ name: 'dashboard-queries', rules }] }, { lineWidth: 0 })}`
}
