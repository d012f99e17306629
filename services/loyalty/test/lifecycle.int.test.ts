import { randomUUID } from 'node:crypto'
import { credentials, status } from '@grpc/grpc-js'
import { afterAll, describe, expect, it } from 'vitest'
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthClient,
  type HealthCheckResponse,
} from '@brewmesh/gen/grpc/health/v1/health.ts'
import type { WatchAccountResponse } from '@brewmesh/gen/brewmesh/loyalty/v1/loyalty_service.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { failure, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { startTcpProxy } from '@brewmesh/testkit/tcp-proxy.ts'
import { SERVICE_NAME } from '../src/app.ts'
import { cleanup, grant, loyaltyEnv, openAccount, startLoyalty } from './support.ts'

const env = loyaltyEnv()
afterAll(() => cleanup(env))

const healthOf = (port: number) => new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure())

describe('health and a PostgreSQL outage', () => {
  it('goes NOT_SERVING with UNAVAILABLE calls while PostgreSQL is unreachable, and recovers by itself', async () => {
    const proxy = await startTcpProxy(env['DB_HOST']!, Number(env['DB_PORT']))
    const svc = await startLoyalty({ ...env, DB_PORT: String(proxy.port) })
    const health = healthOf(svc.app.grpcPort)
    try {
      const id = await openAccount(svc)
      const watch = new StreamReader<HealthCheckResponse>(health.watch({ service: SERVICE_NAME }))
      expect((await watch.next()).status).toBe(Serving.SERVING)
      await proxy.cut()
      expect((await watch.next()).status).toBe(Serving.NOT_SERVING)
      expect((await failure(grant(svc, id, 5))).code).toBe(status.UNAVAILABLE)
      await proxy.restore()
      expect((await watch.next()).status).toBe(Serving.SERVING)
      await eventually(() => grant(svc, id, 5))
      health.close()
    } finally {
      await svc.stop()
      await proxy.close()
    }
  })
})

describe('graceful shutdown', () => {
  it('ends open streams with UNAVAILABLE, reports NOT_SERVING, publishes the outbox, then refuses new calls', async () => {
    const svc = await startLoyalty({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-s` })
    const id = await openAccount(svc)
    const watch = new StreamReader<WatchAccountResponse>(svc.client.watchAccount({ customerId: id }))
    await watch.next()
    const health = new StreamReader<HealthCheckResponse>(healthOf(svc.app.grpcPort).watch({ service: '' }))
    expect((await health.next()).status).toBe(Serving.SERVING)
    await svc.app.relay.stop(0)
    await grant(svc, id, 5)
    const pending = async () =>
      Number((await sqlQuery<{ n: string }>(env, 'select count(*) as n from outbox where published_at is null'))[0]!.n)
    expect(await pending()).toBeGreaterThan(0)

    const stopping = svc.app.stop()
    expect((await health.next()).status).toBe(Serving.NOT_SERVING)
    expect((await watch.end())?.code).toBe(status.UNAVAILABLE)
    await stopping
    expect(await pending()).toBe(0)
    const refused = await failure(svc.client.getAccount({ customerId: randomUUID() }, { deadline: Date.now() + 2000 }))
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(refused.code)
    svc.client.close()
  })
})
