import { randomUUID } from 'node:crypto'
import { credentials, status } from '@grpc/grpc-js'
import { afterAll, describe, expect, it } from 'vitest'
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthClient,
  type HealthCheckResponse,
} from '@brewmesh/gen/grpc/health/v1/health.ts'
import type { SyncFavoritesRequest, SyncFavoritesResponse } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { eventually } from '@brewmesh/testkit/env.ts'
import { failure, pushable, StreamReader } from '@brewmesh/testkit/grpc.ts'
import { startTcpProxy } from '@brewmesh/testkit/tcp-proxy.ts'
import { SERVICE_NAME } from '../src/app.ts'
import { addFavorite, cleanup, favoritesEnv, startFavorites } from './support.ts'

const env = favoritesEnv()
afterAll(() => cleanup(env))

const healthOf = (port: number) => new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure())

describe('a PostgreSQL outage', () => {
  it('goes NOT_SERVING with UNAVAILABLE calls while PostgreSQL is unreachable, and recovers by itself', async () => {
    const proxy = await startTcpProxy(env['DB_HOST']!, Number(env['DB_PORT']))
    const svc = await startFavorites({ ...env, DB_PORT: String(proxy.port) })
    const health = healthOf(svc.app.grpcPort)
    try {
      const customerId = randomUUID()
      await addFavorite(svc.client, customerId)
      const watch = new StreamReader<HealthCheckResponse>(health.watch({ service: SERVICE_NAME }))
      expect((await watch.next()).status).toBe(Serving.SERVING)

      await proxy.cut()
      expect((await watch.next()).status).toBe(Serving.NOT_SERVING)
      expect((await failure(addFavorite(svc.client, customerId, { menuItemId: randomUUID() }))).code).toBe(status.UNAVAILABLE)

      await proxy.restore()
      expect((await watch.next()).status).toBe(Serving.SERVING)
      await eventually(async () => expect((await addFavorite(svc.client, customerId, { menuItemId: randomUUID() })).revision).toBe('2'))
      health.close()
    } finally {
      await svc.stop()
      await proxy.close()
    }
  })
})

describe('graceful shutdown', () => {
  it('ends an open SyncFavorites stream with UNAVAILABLE after reporting NOT_SERVING', async () => {
    const svc = await startFavorites({ ...env, INSTANCE_ID: `${env['INSTANCE_ID']}-s` })
    const customerId = randomUUID()
    const requests = pushable<SyncFavoritesRequest>()
    const reader = new StreamReader<SyncFavoritesResponse>((await svc.customer(customerId)).syncFavorites(requests))
    requests.push({ message: { $case: 'hello', value: { customerId, deviceId: 'phone', lastRevision: '0' } } })
    expect((await reader.next()).message?.$case).toBe('snapshot')
    expect((await reader.next()).message?.$case).toBe('ready')
    const health = new StreamReader<HealthCheckResponse>(healthOf(svc.app.grpcPort).watch({ service: '' }))
    expect((await health.next()).status).toBe(Serving.SERVING)

    const stopping = svc.app.stop()
    expect((await health.next()).status).toBe(Serving.NOT_SERVING)
    expect((await reader.end())?.code).toBe(status.UNAVAILABLE)
    await stopping
    const refused = await failure(svc.client.getUsual({ customerId }))
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(refused.code)
    svc.client.close()
  })
})
