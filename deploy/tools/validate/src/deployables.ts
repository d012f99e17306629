import { readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import type { Report } from './report.ts'

/**
 * Every process brewmesh deploys, by the `service` label its metrics carry (the pod's
 * app.kubernetes.io/name), with its metrics port. The alert rules and dashboards read these.
 */
export const DEPLOYABLES: Readonly<Record<string, number>> = {
  order: 9461,
  customer: 9462,
  loyalty: 9463,
  favorites: 9464,
  edge: 9465,
  ops: 9466,
}

type Labels = Record<string, string>
interface Selector {
  matchLabels?: Labels
  matchExpressions?: { key: string; operator: string; values?: string[] }[]
}
interface Port {
  name?: string
  port?: number | string
  containerPort?: number
}
// Rendered objects, read only as far as this check needs.
interface K8sObject {
  kind?: string
  metadata?: { name?: string }
  spec?: {
    selector?: Selector | Labels
    podSelector?: Selector
    policyTypes?: string[]
    ingress?: { ports?: Port[] }[]
    podMetricsEndpoints?: { port?: string }[]
    template?: { metadata?: { labels?: Labels }; spec?: { containers?: { ports?: Port[] }[] } }
  }
}

/** A Kubernetes label selector (matchLabels and matchExpressions) against a pod's labels. */
export function selects(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return false
  const labelsMatch = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v)
  return (
    labelsMatch &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key]
      if (operator === 'In') return value !== undefined && values.includes(value)
      if (operator === 'NotIn') return value === undefined || !values.includes(value)
      if (operator === 'Exists') return value !== undefined
      if (operator === 'DoesNotExist') return value === undefined
      return false
    })
  )
}

/**
 * Each deployable in every rendered services overlay: a Deployment whose pods are named for it and
 * serve a `metrics` port on its port, a Service selecting them, a PodMonitor that scrapes that port,
 * and a NetworkPolicy that lets the scrape in (once any policy selects a pod, only what a policy
 * allows reaches it). Kustomize does not label pod templates unless told to, so a selector that
 * reads a label from the Deployment's metadata can select no pods at all: this looks at the pods.
 */
export function validateDeployables(files: readonly string[]): Report {
  const problems: string[] = []
  for (const file of files) {
    if (file.includes('migrations')) continue
    const objects = parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => Boolean(o))
    const ofKind = (kind: string) => objects.filter((o) => o.kind === kind)
    for (const [name, port] of Object.entries(DEPLOYABLES)) {
      const bad = (message: string) => problems.push(`${file}: ${name}: ${message}`)
      const deployment = ofKind('Deployment').find((d) => d.spec?.template?.metadata?.labels?.['app.kubernetes.io/name'] === name)
      if (!deployment) {
        bad('no Deployment whose pods are labelled app.kubernetes.io/name=' + name)
        continue
      }
      const pod = deployment.spec?.template?.metadata?.labels ?? {}
      const ports = (deployment.spec?.template?.spec?.containers ?? []).flatMap((c) => c.ports ?? [])
      if (!ports.some((p) => p.name === 'metrics' && p.containerPort === port)) bad(`its pods have no port "metrics" on ${port}`)
      const selecting = ofKind('Service').filter((s) => {
        const selector = s.spec?.selector as Labels | undefined
        return selector && Object.keys(selector).length > 0 && selects({ matchLabels: selector }, pod)
      })
      if (!selecting.length) bad('no Service selects its pods')
      const scraped = ofKind('PodMonitor').some(
        (m) => selects(m.spec?.selector, pod) && (m.spec?.podMetricsEndpoints ?? []).some((e) => e.port === 'metrics'),
      )
      if (!scraped) bad('no PodMonitor scrapes its "metrics" port (Prometheus would not see it)')
      const policies = ofKind('NetworkPolicy').filter(
        (p) => selects(p.spec?.podSelector, pod) && (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress'),
      )
      // A rule without ports lets every port in.
      const letIn = policies.some((p) =>
        (p.spec?.ingress ?? []).some((rule) => !rule.ports?.length || rule.ports.some((q) => q.port === 'metrics' || q.port === port)),
      )
      if (policies.length && !letIn) bad('NetworkPolicies select its pods and none lets the scrape reach "metrics"')
    }
  }
  return {
    problems,
    summary: `${Object.keys(DEPLOYABLES).join(', ')}: pods with a metrics port, a Service, scraped by the PodMonitor, reachable through the NetworkPolicies`,
  }
}
