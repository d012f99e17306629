import type { InfraEnv } from '@brewmesh/testkit/infra.ts'
import { provisionInfra } from '@brewmesh/testkit/infra.ts'

/**
 * The servers a bench runs against, from the one provisioning path the tests use
 * (testkit's provisionInfra): given by the environment (DB_HOST, VALKEY_HOST, KAFKA_BROKERS,
 * e.g. after `eval "$(bash scripts/stack.sh env)"`), else testcontainers when a Docker engine
 * answers, else `scripts/stack.sh up`, which reuses servers it already runs.
 */
export async function ensureInfra(): Promise<{ infra: InfraEnv; source: string }> {
  const { infra } = await provisionInfra()
  return { infra: infra.env, source: infra.source }
}
