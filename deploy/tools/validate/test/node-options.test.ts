import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { DEPLOYED_NODE_OPTIONS } from '../../../../services/testkit/src/env.ts'

// The NODE_OPTIONS each service runs with are written in four places: its Kubernetes config, the
// Compose file, scripts/up.sh, and the testkit (what tests and benches start, "as deployed"). They
// must say the same, or a bench measures a process nobody deploys.
const REPO = join(import.meta.dirname, '../../../..')
const SERVICES = ['customer', 'favorites', 'loyalty', 'order']

function kubernetes(service: string): string | undefined {
  const kustomization = parseYaml(readFileSync(join(REPO, 'deploy/k8s/base/config/kustomization.yaml'), 'utf8')) as {
    configMapGenerator: { name: string; literals?: string[] }[]
  }
  const config = kustomization.configMapGenerator.find((c) => c.name === `${service}-config`)
  if (!config) throw new Error(`no ${service}-config in deploy/k8s/base/config`)
  const literal = config.literals?.find((l) => l.startsWith('NODE_OPTIONS='))
  return literal?.slice('NODE_OPTIONS='.length)
}

function compose(service: string): string | undefined {
  const file = parseYaml(readFileSync(join(REPO, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string> }>
  }
  return file.services[service]?.environment?.['NODE_OPTIONS']
}

/** What up.sh's node_options_of answers for the service, with no NODE_OPTIONS of the caller's own. */
function upSh(service: string): string | undefined {
  const up = readFileSync(join(REPO, 'scripts/up.sh'), 'utf8')
  const fn = up.match(/^node_options_of\(\) \{\n[\s\S]*?\n\}\n/m)?.[0]
  if (!fn) throw new Error('no node_options_of in scripts/up.sh')
  const env = { PATH: process.env['PATH'] ?? '' }
  const answer = execFileSync('bash', ['-c', `${fn}\nnode_options_of "$1"`, 'up.sh', service], { env, encoding: 'utf8' }).trim()
  return answer || undefined
}

describe('NODE_OPTIONS the services are deployed with', () => {
  it.each(SERVICES)('%s: the same in Kubernetes, Compose, up.sh and the testkit', (service) => {
    const expected = DEPLOYED_NODE_OPTIONS[service]
    expect({ kubernetes: kubernetes(service), compose: compose(service), upSh: upSh(service) }).toEqual({
      kubernetes: expected,
      compose: expected,
      upSh: expected,
    })
  })

  it.each(SERVICES)('%s: its young generation capped', (service) => {
    expect(DEPLOYED_NODE_OPTIONS[service]).toMatch(/--max-semi-space-size=\d+/)
  })
})
