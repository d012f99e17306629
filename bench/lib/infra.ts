import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { InfraEnv } from '@brewmesh/testkit/infra.ts'
import { runInherited } from './command.ts'
import { note } from './log.ts'
import { REPO } from './repo.ts'

function infraFrom(env: Readonly<Record<string, string | undefined>>): InfraEnv | undefined {
  if (!env['DB_HOST'] || !env['VALKEY_HOST'] || !env['KAFKA_BROKERS']) return undefined
  return {
    DB_HOST: env['DB_HOST'],
    DB_PORT: env['DB_PORT'] ?? '5432',
    DB_USER: env['DB_USER'] ?? 'brewmesh',
    DB_PASSWORD: env['DB_PASSWORD'] ?? 'brewmesh',
    VALKEY_HOST: env['VALKEY_HOST'],
    VALKEY_PORT: env['VALKEY_PORT'] ?? '6379',
    KAFKA_BROKERS: env['KAFKA_BROKERS'],
  }
}

function readStackEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of readFileSync(join(REPO, '.stack/env'), 'utf8').split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line)
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2].replace(/^'(.*)'$/, '$1')
  }
  return env
}

/** The servers from the environment; without DB_HOST, `scripts/stack.sh up` and its .stack/env. */
export async function ensureInfra(): Promise<{ infra: InfraEnv; source: string }> {
  if (process.env['DB_HOST']) {
    const infra = infraFrom(process.env)
    if (!infra) throw new Error('DB_HOST is set but VALKEY_HOST or KAFKA_BROKERS is not: set all, or none to use scripts/stack.sh')
    return { infra, source: 'environment' }
  }
  note('DB_HOST is not set: bash scripts/stack.sh up')
  await runInherited('bash', ['scripts/stack.sh', 'up'])
  const infra = infraFrom(readStackEnv())
  if (!infra) throw new Error('scripts/stack.sh up wrote no usable .stack/env')
  return { infra, source: 'scripts/stack.sh (.stack/env)' }
}
