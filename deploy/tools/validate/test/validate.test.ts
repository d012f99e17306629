import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { prometheusRule, validateAlertRules } from '../src/alert-rules.ts'
import { DEPLOYABLES, selects, validateDeployables } from '../src/deployables.ts'
import { dashboardRules, filledIn } from '../src/dashboard-queries.ts'
import { validateDevcontainer } from '../src/devcontainer.ts'
import { validateK8s } from '../src/k8s.ts'
import { exportedMetrics, metricsOf, unknownMetrics } from '../src/metric-names.ts'
import { balanced, validateObservability } from '../src/observability.ts'

const REPO = resolve(import.meta.dirname, '../../../..')
const scratch = () => mkdtempSync(join(tmpdir(), 'deploy-validate-'))
const file = (dir: string, name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const deployment = (containers: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: customer }
spec:
  selector: { matchLabels: { app: customer } }
  template:
    metadata: { labels: { app: customer } }
    spec:
      containers: ${containers}
`

describe('k8s', () => {
  it('when every object matches its schema, then it passes and counts them', async () => {
    const dir = scratch()
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { A: "1" }\n'
    const report = await validateK8s([file(dir, 'ok.yaml', `${deployment('[{ name: app, image: x }]')}---\n${cm}`)])
    expect(report.problems).toEqual([])
    expect(report.summary).toBe('2 objects valid against the Kubernetes schemas')
  })

  it('when a container has no name, then the Deployment is named with the schema error', async () => {
    const report = await validateK8s([file(scratch(), 'bad.yaml', deployment('[{ image: x }]'))])
    expect(report.problems).toHaveLength(1)
    expect(report.problems[0]).toMatch(/bad\.yaml: Deployment customer: .*name/)
  })

  it('when a field has the wrong type, then it fails', async () => {
    const report = await validateK8s([
      file(scratch(), 'bad.yaml', deployment('[{ name: app, image: x, ports: [{ containerPort: "http" }] }]')),
    ])
    expect(report.problems[0]).toMatch(/containerPort/)
  })

  it('when an apiVersion is misspelt, then there is no schema and it fails instead of passing unchecked', async () => {
    const report = await validateK8s([file(scratch(), 'typo.yaml', 'apiVersion: app/v1\nkind: Deployment\nmetadata: { name: x }\n')])
    expect(report.problems).toEqual([expect.stringContaining('no schema for app/v1 Deployment')])
  })

  it('when a cert-manager Certificate lacks its issuer, then its own schema catches it', async () => {
    const cert = 'apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: { name: c }\nspec: { secretName: c-tls, dnsNames: [c] }\n'
    const report = await validateK8s([file(scratch(), 'cert.yaml', cert)])
    expect(report.problems[0]).toMatch(/Certificate c: .*issuerRef/)
  })

  it('when a document is not YAML, then the file is named', async () => {
    const report = await validateK8s([file(scratch(), 'broken.yaml', 'kind: [unclosed\n')])
    expect(report.problems[0]).toMatch(/^.*broken\.yaml: /)
  })
})

describe('deployables', () => {
  // A render with every deployable as the base lays them out; `podLabels` is what kustomize put on the pods.
  const render = (podLabels: (name: string) => string, extra = '') =>
    Object.entries(DEPLOYABLES)
      .map(
        ([name, port]) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, labels: { app.kubernetes.io/part-of: brewmesh } }
spec:
  selector: { matchLabels: { app.kubernetes.io/name: ${name} } }
  template:
    metadata: { labels: { ${podLabels(name)} } }
    spec: { containers: [{ name: ${name}, image: x, ports: [{ name: metrics, containerPort: ${port} }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { selector: { app.kubernetes.io/name: ${name} }, ports: [{ name: metrics, port: ${port} }] }
---
`,
      )
      .join('') +
    `apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: { name: brewmesh }
spec:
  selector: { matchLabels: { app.kubernetes.io/part-of: brewmesh } }
  podMetricsEndpoints: [{ port: metrics }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: deny }
spec: { podSelector: { matchLabels: { app.kubernetes.io/part-of: brewmesh } }, policyTypes: [Ingress] }
${extra}`
  const onPods = (name: string) => `app.kubernetes.io/name: ${name}, app.kubernetes.io/part-of: brewmesh`
  const scrapeAllowed = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: metrics }
spec:
  podSelector: { matchLabels: { app.kubernetes.io/part-of: brewmesh } }
  ingress: [{ ports: [{ port: metrics }] }]
`

  it('when every deployable has pods with a metrics port, a Service, the PodMonitor and a policy letting the scrape in, then it passes', () => {
    const report = validateDeployables([file(scratch(), 'overlay.yaml', render(onPods, scrapeAllowed))])
    expect(report.problems).toEqual([])
  })

  it('when the label the PodMonitor selects is on the Deployment but not on its pods, then nothing is scraped and it says so', () => {
    const report = validateDeployables([
      file(
        scratch(),
        'overlay.yaml',
        render((name) => `app.kubernetes.io/name: ${name}`, scrapeAllowed),
      ),
    ])
    expect(report.problems).toContainEqual(expect.stringContaining('ops: no PodMonitor scrapes its "metrics" port'))
  })

  it('when policies isolate the pods and none lets the scrape in, then it fails', () => {
    const report = validateDeployables([file(scratch(), 'overlay.yaml', render(onPods))])
    expect(report.problems).toContainEqual(
      expect.stringContaining('edge: NetworkPolicies select its pods and none lets the scrape reach "metrics"'),
    )
  })

  it('when a deployable is missing, then it is named', () => {
    const text = render(onPods, scrapeAllowed).replaceAll('app.kubernetes.io/name: ops', 'app.kubernetes.io/name: elsewhere')
    expect(validateDeployables([file(scratch(), 'overlay.yaml', text)]).problems).toEqual([
      expect.stringContaining('ops: no Deployment whose pods are labelled app.kubernetes.io/name=ops'),
    ])
  })

  it('a label selector matches as Kubernetes does', () => {
    const pod = { app: 'edge', tier: 'front' }
    expect(selects({ matchLabels: { app: 'edge' } }, pod)).toBe(true)
    expect(selects({ matchExpressions: [{ key: 'app', operator: 'In', values: ['order', 'edge'] }] }, pod)).toBe(true)
    expect(selects({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['edge'] }] }, pod)).toBe(false)
    expect(selects({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, pod)).toBe(true)
    expect(selects({ matchLabels: { app: 'edge' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, pod)).toBe(true)
    expect(selects({}, pod)).toBe(true)
    expect(selects(undefined, pod)).toBe(false)
  })
})

describe('devcontainer', () => {
  const schema = join(REPO, 'deploy/schemas/devcontainer.schema.json')

  it("when it is the repository's own devcontainer.json, then it is valid", () => {
    expect(validateDevcontainer(join(REPO, '.devcontainer/devcontainer.json'), schema).problems).toEqual([])
  })

  it('when it has a trailing comma, then it does not parse', () => {
    const dir = scratch()
    const report = validateDevcontainer(file(dir, 'devcontainer.json', '{ "name": "x", }'), schema)
    expect(report.problems[0]).toMatch(/JSON with comments: .* at offset/)
  })

  it('when its compose file does not define its service, then it says so', () => {
    const dir = scratch()
    file(dir, 'compose.yaml', 'services:\n  other: { image: x }\n')
    const config = '{ "name": "x", "dockerComposeFile": "compose.yaml", "service": "dev", "workspaceFolder": "/w" }'
    const report = validateDevcontainer(file(dir, 'devcontainer.json', config), schema)
    expect(report.problems).toContainEqual(expect.stringContaining('service "dev" is not defined in compose.yaml'))
  })
})

describe('observability', () => {
  // A copy of the repository's observability files to break one thing at a time.
  const copy = () => {
    const dir = scratch()
    for (const p of ['deploy/grafana', 'deploy/prometheus', 'deploy/otel', 'deploy/observe', 'deploy/compose.yaml'])
      cpSync(join(REPO, p), join(dir, p), { recursive: true })
    // The services' sources, where the metric names are defined.
    cpSync(join(REPO, 'services'), join(dir, 'services'), { recursive: true, filter: (src) => !src.includes('node_modules') })
    return dir
  }
  const dashboard = (dir: string) => join(dir, 'deploy/grafana/dashboards/customer-performance.json')

  it("when they are the repository's own files, then they hang together", () => {
    expect(validateObservability(REPO).problems).toEqual([])
  })

  it('when two panels share an id, then the dashboard fails', () => {
    const dir = copy()
    const dash = JSON.parse(readFileSync(dashboard(dir), 'utf8')) as { panels: { id: number }[] }
    dash.panels[1]!.id = dash.panels[0]!.id
    writeFileSync(dashboard(dir), JSON.stringify(dash))
    expect(validateObservability(dir).problems).toContainEqual(expect.stringMatching(/customer-performance\.json: duplicate panel id/))
  })

  it('when a panel uses a datasource nobody provisions, then it fails', () => {
    const dir = copy()
    writeFileSync(dashboard(dir), readFileSync(dashboard(dir), 'utf8').replaceAll('"uid": "prometheus"', '"uid": "elsewhere"'))
    expect(validateObservability(dir).problems).toContainEqual(expect.stringContaining('uses datasource elsewhere, not provisioned'))
  })

  it('when a Collector pipeline names an exporter that is not defined, then it fails', () => {
    const dir = copy()
    const path = join(dir, 'deploy/otel/collector.yaml')
    writeFileSync(path, readFileSync(path, 'utf8').replace('exporters: [otlp/jaeger]', 'exporters: [otlp/tempo]'))
    expect(validateObservability(dir).problems).toContainEqual(
      expect.stringContaining('pipeline traces uses undefined exporter otlp/tempo'),
    )
  })

  it("when Compose's Prometheus does not scrape a deployable, then it is named", () => {
    const dir = copy()
    const path = join(dir, 'deploy/prometheus/prometheus.yml')
    writeFileSync(path, readFileSync(path, 'utf8').replace("- targets: ['ops-exporter:9466']\n        labels: { service: ops }\n", ''))
    expect(validateObservability(dir).problems).toEqual(['deploy/prometheus/prometheus.yml: job brewmesh does not scrape ops'])
  })

  it('when a deployable is scraped at a host Compose does not define, then it fails', () => {
    const dir = copy()
    const path = join(dir, 'deploy/prometheus/prometheus.yml')
    writeFileSync(path, readFileSync(path, 'utf8').replace("'edge:9465'", "'gateway:9465'"))
    expect(validateObservability(dir).problems).toEqual([
      'deploy/prometheus/prometheus.yml: edge is scraped at gateway:9465, not at a known host on :9465',
    ])
  })

  it('when a panel reads a metric no service exports, then the panel and the name are named', () => {
    const dir = copy()
    writeFileSync(dashboard(dir), readFileSync(dashboard(dir), 'utf8').replace('customer_cache_misses_total', 'customer_cache_miss_total'))
    expect(validateObservability(dir).problems).toContainEqual(
      expect.stringMatching(
        /customer-performance\.json: panel "Cache hit rate" query A reads customer_cache_miss_total, which no service exports/,
      ),
    )
  })

  it('when an alert reads a metric that neither exists nor is recorded, then it fails', () => {
    const dir = copy()
    const path = join(dir, 'deploy/prometheus/rules/brewmesh.rules.yml')
    writeFileSync(path, readFileSync(path, 'utf8').replace('brewmesh_kafka_state_up == 0', 'brewmesh_kafka_up == 0'))
    expect(validateObservability(dir).problems).toEqual([
      'deploy/prometheus/rules/brewmesh.rules.yml: BrewmeshKafkaStateUnknown reads brewmesh_kafka_up, which no service exports and no rule records',
    ])
  })

  it('when a query is read for metric names, then functions, grouping labels, label values and ranges are not names', () => {
    expect(
      metricsOf('histogram_quantile(0.99, sum by (le, method) (rate(order_service_duration_seconds_bucket{code!="OK"}[5m])))'),
    ).toEqual(['order_service_duration_seconds_bucket'])
    expect(metricsOf('sum(a_total) / on (service) group_left max(b) > bool 0 or up')).toEqual(['a_total', 'b', 'up'])
    expect(metricsOf('sum({__name__=~"(${service:pipe})_queue_jobs", state="failed"})')).toEqual([
      'order_queue_jobs',
      'customer_queue_jobs',
      'loyalty_queue_jobs',
      'favorites_queue_jobs',
    ])
    expect(metricsOf('{__name__=~"(order|edge)_service_in_flight"} offset 5m')).toEqual([
      'order_service_in_flight',
      'edge_service_in_flight',
    ])
    expect(metricsOf('{__name__=~".+_service_requests_total"}')).toEqual([])
  })

  it("the services' sources tell which names exist: counters with _total, histograms with their series, ${service} for each service", () => {
    const exported = exportedMetrics(REPO)
    expect(unknownMetrics('rate(outbox_published_total[1m]) + loyalty_job_duration_seconds_count + nodejs_heap_bytes', exported)).toEqual(
      [],
    )
    expect(unknownMetrics('outbox_published + bench_job_duration_seconds_count + pg_up + kube_pod_info', exported)).toEqual([
      'outbox_published',
      'bench_job_duration_seconds_count',
    ])
  })

  it("when the dashboards' queries are made rules for promtool, then Grafana's variables are filled in and each rule names its panel", () => {
    expect(filledIn('sum({__name__=~"(${service:pipe})_x", service=~"${service:regex}"}[$__rate_interval]) + increase(y[$__range])')).toBe(
      'sum({__name__=~"(order|customer|loyalty|favorites)_x", service=~"order|customer|loyalty|favorites"}[1m]) + increase(y[1h])',
    )
    const rules = parseYaml(dashboardRules(REPO)) as { groups: { rules: { record: string; expr: string }[] }[] }
    const all = rules.groups[0]!.rules
    expect(all).toContainEqual({
      record: 'dashboard:customer_performance:panel_2_A',
      expr: 'sum(rate(customer_service_requests_total{job="brewmesh"}[1m]))',
    })
    expect(all.filter((r) => r.expr.includes('$'))).toEqual([])
  })

  it('when a query has an unclosed bracket, then it is unbalanced', () => {
    expect(balanced('sum(rate(x_total[5m])) by (service)')).toBe(true)
    expect(balanced('sum(rate(x_total[5m]) by (service)')).toBe(false)
    expect(balanced(')(')).toBe(false)
  })
})

describe('alert rules', () => {
  const rules = join(REPO, 'deploy/prometheus/rules/brewmesh.rules.yml')

  it('when the PrometheusRule is generated from the rules file, then it passes', () => {
    const dir = scratch()
    const object = file(dir, 'prometheus-rule.yaml', prometheusRule(rules))
    expect(validateAlertRules(rules, object).problems).toEqual([])
  })

  it('the checked-in PrometheusRule carries the rules file', () => {
    expect(validateAlertRules(rules, join(REPO, 'deploy/k8s/base/monitoring/prometheus-rule.yaml')).problems).toEqual([])
  })

  it('when an alert was changed in one file only, then it names the file to regenerate', () => {
    const dir = scratch()
    const object = file(dir, 'prometheus-rule.yaml', prometheusRule(rules).replace('> 1000', '> 5000'))
    expect(validateAlertRules(rules, object).problems).toEqual([expect.stringContaining('its groups differ from')])
  })
})
