#!/usr/bin/env node
/**
 * The JavaScript half of scripts/deploy-check.sh:
 *   node deploy/tools/validate/src/main.ts k8s FILE...                 rendered manifests against the schemas
 *   node deploy/tools/validate/src/main.ts edge FILE...               the edge in every overlay, behind TLS in production
 *   node deploy/tools/validate/src/main.ts deployables FILE...        every deployable's pods scraped and reachable for the scrape
 *   node deploy/tools/validate/src/main.ts devcontainer FILE SCHEMA    devcontainer.json
 *   node deploy/tools/validate/src/main.ts observability REPO          dashboards, Prometheus, Collector
 *   node deploy/tools/validate/src/main.ts alert-rules RULES OBJECT    the PrometheusRule carries the rules file's groups
 *   node deploy/tools/validate/src/main.ts prometheus-rule RULES       prints the PrometheusRule for a rules file
 *   node deploy/tools/validate/src/main.ts dashboard-rules REPO        prints the dashboards' queries as rules, for promtool
 * Exits 1 naming every problem, 2 on a usage error.
 */
import { prometheusRule, validateAlertRules } from './alert-rules.ts'
import { dashboardRules } from './dashboard-queries.ts'
import { validateDeployables } from './deployables.ts'
import { validateDevcontainer } from './devcontainer.ts'
import { validateEdge } from './edge.ts'
import { validateK8s } from './k8s.ts'
import { validateObservability } from './observability.ts'
import type { Report } from './report.ts'

const USAGE =
  'usage: main.ts k8s FILE... | edge FILE... | deployables FILE... | devcontainer FILE SCHEMA | observability REPO | alert-rules RULES OBJECT | prometheus-rule RULES | dashboard-rules REPO'

async function run([mode, ...args]: string[]): Promise<Report | undefined> {
  const [first, second] = args
  if (mode === 'k8s' && args.length) return validateK8s(args)
  if (mode === 'edge' && args.length) return validateEdge(args)
  if (mode === 'deployables' && args.length) return validateDeployables(args)
  if (mode === 'devcontainer' && first && second) return validateDevcontainer(first, second)
  if (mode === 'observability' && first) return validateObservability(first)
  if (mode === 'alert-rules' && first && second) return validateAlertRules(first, second)
  return undefined
}

const [mode, rules] = process.argv.slice(2)
if (mode === 'prometheus-rule' && rules) {
  process.stdout.write(prometheusRule(rules))
  process.exit(0)
}
if (mode === 'dashboard-rules' && rules) {
  process.stdout.write(dashboardRules(rules))
  process.exit(0)
}
const report = await run(process.argv.slice(2))
if (!report) {
  console.error(USAGE)
  process.exit(2)
}
for (const p of report.problems) console.error(`[validate] ${p}`)
if (!report.problems.length) console.log(`[validate] ${report.summary}`)
process.exit(report.problems.length ? 1 : 0)
