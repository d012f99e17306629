import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { parse } from 'yaml'
import type { Report } from './report.ts'

/**
 * The PrometheusRule of the Kubernetes manifests carries the same groups as the rules file that
 * promtool tests (deploy/prometheus/rules): one set of alerts, tested once, shipped twice.
 * `pnpm --dir deploy/tools/validate exec node src/main.ts prometheus-rule RULES` prints the object.
 */
export function validateAlertRules(rulesFile: string, prometheusRuleFile: string): Report {
  const rules = parse(readFileSync(rulesFile, 'utf8')) as { groups?: unknown }
  const object = parse(readFileSync(prometheusRuleFile, 'utf8')) as { kind?: string; spec?: { groups?: unknown } }
  const problems: string[] = []
  if (object.kind !== 'PrometheusRule') problems.push(`${prometheusRuleFile}: not a PrometheusRule`)
  else if (!isDeepStrictEqual(object.spec?.groups, rules.groups))
    problems.push(
      `${prometheusRuleFile}: its groups differ from ${rulesFile}; regenerate it: node deploy/tools/validate/src/main.ts prometheus-rule ${rulesFile}`,
    )
  return { problems, summary: `${prometheusRuleFile} carries the groups of ${rulesFile}` }
}

/** The PrometheusRule object for a rules file, as YAML. */
export function prometheusRule(rulesFile: string): string {
  const header = [
    '# Generated from deploy/prometheus/rules/brewmesh.rules.yml (tested with promtool there):',
    '#   node deploy/tools/validate/src/main.ts prometheus-rule deploy/prometheus/rules/brewmesh.rules.yml',
    '# scripts/deploy-check.sh fails when the two differ. Needs the Prometheus Operator.',
  ].join('\n')
  const rules = readFileSync(rulesFile, 'utf8')
  const groups = rules.slice(rules.indexOf('groups:'))
  const indented = groups
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n')
  return `${header}\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: brewmesh\n  labels:\n    app.kubernetes.io/component: alerting\nspec:\n${indented}`
}
