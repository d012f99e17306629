import { readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import type { Report } from './report.ts'

interface Validating {
  validate(): void
}
type ModelClass = new (data: unknown) => Validating

// The schema packages of the API groups the manifests use; the core groups come from kubernetes-models.
const PACKAGES: Record<string, string> = {
  'cert-manager.io': '@kubernetes-models/cert-manager',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
}

/** The model class that validates objects of apiVersion/kind, or undefined when no package knows it. */
async function modelOf(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion]
  const pkg = PACKAGES[group ?? ''] ?? 'kubernetes-models'
  const path = group === '' ? `${pkg}/${version}/${kind}` : `${pkg}/${group}/${version}/${kind}`
  try {
    const module = (await import(path)) as Record<string, ModelClass | undefined>
    return module[kind]
  } catch {
    return undefined
  }
}

/**
 * Every object of multi-document YAML files (rendered overlays) against the JSON schemas of its
 * kind: required fields, types, formats and enums. An object of a kind no package describes fails,
 * so a typo in apiVersion cannot pass unchecked.
 */
export async function validateK8s(files: readonly string[]): Promise<Report> {
  const problems: string[] = []
  let valid = 0
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const [error] = doc.errors
      if (error) {
        problems.push(`${file}: ${error.message}`)
        continue
      }
      const obj = doc.toJS() as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: string } } | null
      if (!obj) continue
      const { apiVersion, kind } = obj
      const name = `${file}: ${String(kind)} ${obj.metadata?.name ?? '(no name)'}`
      if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
        problems.push(`${name}: no apiVersion or kind`)
        continue
      }
      const Model = await modelOf(apiVersion, kind)
      if (!Model) {
        problems.push(`${name}: no schema for ${apiVersion} ${kind}`)
        continue
      }
      try {
        new Model(obj).validate()
        valid++
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message.split('\n').slice(0, 5).join('; ')}`)
      }
    }
  }
  return { problems, summary: `${valid} objects valid against the Kubernetes schemas` }
}
