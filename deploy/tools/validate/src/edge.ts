import { readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import type { Report } from './report.ts'

// Rendered objects, read only as far as this check needs.
interface K8sObject {
  kind?: string
  metadata?: { name?: string }
  spec?: {
    ports?: { name?: string }[]
    tls?: { hosts?: string[] }[]
    rules?: { host?: string; http?: { paths?: { path?: string; backend: { service?: { name?: string; port?: { name?: string } } } }[] } }[]
    template?: { spec?: { containers?: { env?: { name: string }[] }[] } }
  }
  data?: Record<string, string>
}

/**
 * The edge in the rendered overlays: its Deployment and Service in every services overlay; in
 * production an Ingress with TLS for every host it routes, to a port of the edge Service, named
 * origins for CORS, and TLS to the services (OUTBOUND_TLS_CA_FILE).
 */
export function validateEdge(files: readonly string[]): Report {
  const problems: string[] = []
  const bad = (message: string) => problems.push(message)
  for (const file of files) {
    if (file.includes('migrations')) continue
    const objects = parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => Boolean(o))
    const find = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && (o.metadata?.name === name || o.metadata?.name?.startsWith(`${name}-`)))
    const deployment = find('Deployment', 'edge')
    const service = find('Service', 'edge')
    if (!deployment || !service) {
      bad(`${file}: no edge Deployment and Service`)
      continue
    }
    if (!file.includes('prod')) continue
    const ports = new Set((service.spec?.ports ?? []).map((p) => p.name))
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name?.startsWith('edge-config'))?.data ?? {}
    const ingresses = objects.filter((o) => o.kind === 'Ingress')
    if (!ingresses.length) bad(`${file}: production has no Ingress for the edge`)
    for (const ing of ingresses) {
      const name = ing.metadata?.name ?? '(no name)'
      const tlsHosts = new Set((ing.spec?.tls ?? []).flatMap((t) => t.hosts ?? []))
      for (const rule of ing.spec?.rules ?? []) {
        if (!rule.host || !tlsHosts.has(rule.host)) bad(`${file}: Ingress ${name}: host ${rule.host} has no TLS`)
        for (const path of rule.http?.paths ?? []) {
          const backend = path.backend.service
          if (backend?.name !== 'edge' || !ports.has(backend.port?.name))
            bad(`${file}: Ingress ${name}: ${rule.host}${path.path} does not go to a port of Service edge`)
        }
      }
    }
    const origins = config['EDGE_CORS_ORIGINS']
    if (!origins || origins.split(',').includes('*')) bad(`${file}: production edge-config needs EDGE_CORS_ORIGINS naming origins`)
    const env = deployment.spec?.template?.spec?.containers?.[0]?.env ?? []
    if (!env.some((e) => e.name === 'OUTBOUND_TLS_CA_FILE'))
      bad(`${file}: the production edge does not call the services over TLS (OUTBOUND_TLS_CA_FILE)`)
  }
  return { problems, summary: 'the edge: Deployment and Service in every overlay; production Ingress with TLS' }
}
