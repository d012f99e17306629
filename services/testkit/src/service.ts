import { credentials, type ServiceDefinition } from '@grpc/grpc-js'
import { inject } from 'vitest'
import type { RunningService } from '@brewmesh/runtime/service'
import { createLogger, type Logger } from '@brewmesh/runtime/logger'
import { createClient, type PromiseClient } from '@brewmesh/sdk/client.ts'
import { dropSchema, isolatedEnv } from './env.ts'
import { PRINCIPALS } from './principals.ts'
import { bearer, testIssuer, type TestIssuer, type TokenClaims } from './tokens.ts'

/** A service started in-process for a test file, with promise clients for any caller. */
export interface TestService<S extends ServiceDefinition, Config> {
  app: RunningService
  address: string
  config: Config
  env: Record<string, string>
  issuer: TestIssuer
  /** A client with the staff token (support + operator). */
  client: PromiseClient<S>
  /** A client calling with a token for these claims. */
  as(claims: TokenClaims): Promise<PromiseClient<S>>
  stop(): Promise<void>
}

/** What a service gives the testkit to start it: its contract, config reader, migrations and composition root. */
export interface ServiceUnderTest<S extends ServiceDefinition, Config> {
  name: 'customer' | 'order' | 'loyalty' | 'favorites'
  definition: S
  readConfig(env: Record<string, string | undefined>): Config
  migrate(config: Config, log: Logger): Promise<void>
  start(config: Config): Promise<RunningService>
}

const quiet = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })

/** The shared test servers, with this test's own schema, topic suffix, key prefix and instance id. */
export const testEnv = (service: string, extra: Record<string, string> = {}) => isolatedEnv(service, inject('infra').env, extra)

/**
 * Migrates (unless told not to) and starts a service in-process on port 0, trusting the test
 * issuer; waits until its consumers joined their groups unless `ready` is false.
 */
export async function startTestService<S extends ServiceDefinition, Config>(
  service: ServiceUnderTest<S, Config>,
  env: Record<string, string>,
  options: { migrate?: boolean; ready?: boolean } = {},
): Promise<TestService<S, Config>> {
  const issuer = await testIssuer()
  const config = service.readConfig({ ...issuer.env, ...env })
  if (options.migrate !== false) await service.migrate(config, quiet)
  const app = await service.start(config)
  if (options.ready !== false) await app.ready
  const address = `127.0.0.1:${app.grpcPort}`
  const clients: { close(): void }[] = []
  const as = async (claims: TokenClaims) => {
    const c = createClient(service.definition, address, credentials.createInsecure(), { interceptors: [bearer(await issuer.mint(claims))] })
    clients.push(c)
    return c
  }
  return {
    app,
    address,
    config,
    env,
    issuer,
    client: await as(PRINCIPALS.staff),
    as,
    async stop() {
      for (const c of clients) c.close()
      await app.stop()
    },
  }
}

/** Drops a test's schema (and everything in it) at the end of the file. */
export const cleanupEnv = (env: Record<string, string>) => dropSchema(env)
