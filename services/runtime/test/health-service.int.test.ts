import { credentials, Server, ServerCredentials, status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthClient,
  type HealthCheckResponse,
  type HealthListResponse,
} from '@brewmesh/gen/grpc/health/v1/health.ts'
import { StreamReader } from '@brewmesh/testkit/grpc.ts'
import { HealthStatuses } from '../src/grpc/health-service.ts'

// grpc.health.v1 as clients (kubelet, grpcurl, the edge, grpc-health-probe) read it, over a real
// grpc-js server: what grpc-health-check answered, the service now answers itself.
const server = new Server()
const health = new HealthStatuses({ '': 'NOT_SERVING' })
let client: HealthClient

beforeAll(async () => {
  health.addToServer(server)
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure())
})
afterAll(() => {
  client?.close()
  server.forceShutdown()
})

const check = (service: string) =>
  new Promise<HealthCheckResponse>((resolve, reject) => client.check({ service }, (err, r) => (err ? reject(err) : resolve(r))))

describe('grpc.health.v1 on gen stubs', () => {
  it('Check answers the status set for a name, and NOT_FOUND for a name never set', async () => {
    expect((await check('')).status).toBe(Serving.NOT_SERVING)
    health.setStatus('brewmesh.test.v1.TestService', 'SERVING')
    expect((await check('brewmesh.test.v1.TestService')).status).toBe(Serving.SERVING)
    await expect(check('nobody')).rejects.toMatchObject({ code: status.NOT_FOUND })
  })

  it('Watch sends SERVICE_UNKNOWN for a name never set without ending, then every change', async () => {
    const name = `later-${Date.now()}`
    const call = client.watch({ service: name })
    const watch = new StreamReader<HealthCheckResponse>(call)
    try {
      expect((await watch.next()).status).toBe(Serving.SERVICE_UNKNOWN)
      health.setStatus(name, 'SERVING')
      expect((await watch.next()).status).toBe(Serving.SERVING)
      health.setStatus(name, 'NOT_SERVING')
      expect((await watch.next()).status).toBe(Serving.NOT_SERVING)
    } finally {
      call.cancel()
    }
  })

  it('List answers every name set', async () => {
    health.setStatus('dependency/postgres', 'SERVING')
    const listed = await new Promise<HealthListResponse>((resolve, reject) => client.list({}, (err, r) => (err ? reject(err) : resolve(r))))
    expect(listed.statuses['dependency/postgres']).toEqual({ status: Serving.SERVING })
    expect(listed.statuses['']).toEqual({ status: Serving.NOT_SERVING })
  })
})
