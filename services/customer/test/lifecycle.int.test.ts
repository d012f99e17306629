import { credentials, status } from '@grpc/grpc-js'
import { afterAll, describe, expect, it } from 'vitest'
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthService,
  type HealthCheckResponse,
} from '@brewmesh/gen/grpc/health/v1/health.ts'
import { createClient, type PromiseClient } from '@brewmesh/sdk/client.ts'
import type { WatchCustomerResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { eventually, sqlQuery } from '@brewmesh/testkit/env.ts'
import { failure, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { startTcpProxy } from '@brewmesh/testkit/tcp-proxy.ts'
import { SERVICE_NAME } from '../src/app.ts'
import { cleanup, createCustomer, customerEnv, startCustomer } from './support.ts'

const env = customerEnv()
afterAll(() => cleanup(env))

type HealthClient = PromiseClient<typeof HealthService>
const healthOf = (port: number) => createClient(HealthService, `127.0.0.1:${port}`, credentials.createInsecure())
const check = (client: HealthClient, service = '') => client.check({ service }).then((r) => r.status)

describe('health and a PostgreSQL outage', () => {
  it('goes NOT_SERVING with UNAVAILABLE calls while PostgreSQL is unreachable, and recovers by itself', async () => {
    const proxy = await startTcpProxy(env['DB_HOST']!, Number(env['DB_PORT']))
    const svc = await startCustomer({ ...env, DB_PORT: String(proxy.port) }, { waitForFeed: false })
    const health = healthOf(svc.app.grpcPort)
    try {
      const c = await createCustomer(svc.client)
      expect(await check(health)).toBe(Serving.SERVING)
      expect(await check(health, SERVICE_NAME)).toBe(Serving.SERVING)
      const watch = new StreamReader<HealthCheckResponse>(health.watch({ service: SERVICE_NAME }))
      expect((await watch.next()).status).toBe(Serving.SERVING)

      await proxy.cut()
      expect((await watch.next()).status).toBe(Serving.NOT_SERVING)
      expect(await check(health)).toBe(Serving.NOT_SERVING)
      const err = await failure(
        svc.client.createCustomer({
          ...c,
          requestId: '',
          username: 'new_user_x',
          email: 'x@y.io',
          phone: '',
          dietaryRestrictions: [],
          householdId: '',
        }),
      )
      expect(err.code).toBe(status.UNAVAILABLE)

      await proxy.restore()
      expect((await watch.next()).status).toBe(Serving.SERVING)
      await eventually(async () => expect((await svc.client.getCustomer({ id: c.id })).customer?.id).toBe(c.id))
      health.close()
    } finally {
      await svc.stop()
      await proxy.close()
    }
  })

  it('answers NOT_FOUND for a service it does not serve', async () => {
    const svc = await startCustomer({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-h` }, { waitForFeed: false })
    try {
      const err = await failure(check(healthOf(svc.app.grpcPort), 'brewmesh.order.v1.OrderService'))
      expect(err.code).toBe(status.NOT_FOUND)
    } finally {
      await svc.stop()
    }
  })
})

describe('graceful shutdown', () => {
  it('ends open streams with UNAVAILABLE, reports NOT_SERVING, then refuses new calls', async () => {
    const svc = await startCustomer({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-s` })
    const c = await createCustomer(svc.client)
    const watch = new StreamReader<WatchCustomerResponse>(svc.client.watchCustomer({ id: c.id }))
    await watch.next()
    const health = new StreamReader<HealthCheckResponse>(healthOf(svc.app.grpcPort).watch({ service: '' }))
    expect((await health.next()).status).toBe(Serving.SERVING)

    const stopping = svc.app.stop()
    expect((await health.next()).status).toBe(Serving.NOT_SERVING)
    expect((await watch.end())?.code).toBe(status.UNAVAILABLE)
    await stopping
    const refused = await failure(svc.client.getCustomer({ id: c.id }, { deadline: Date.now() + 2000 }))
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(refused.code)
    svc.client.close()
  })

  it('publishes what the outbox holds before it stops', async () => {
    const svc = await startCustomer({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-d` })
    await svc.app.relay.stop(0)
    await createCustomer(svc.client)
    const pending = async () =>
      Number((await sqlQuery<{ n: string }>(env, 'select count(*) as n from outbox where published_at is null'))[0]!.n)
    expect(await pending()).toBeGreaterThan(0)
    await svc.stop()
    expect(await pending()).toBe(0)
  })
})
