import { credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropSchema, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { grpcurlAt } from '@brewmesh/testkit/grpcurl.ts'
import { freePort } from '@brewmesh/testkit/infra.ts'
import { migrateProcess, startProcess, type ServiceProcess } from '@brewmesh/testkit/processes.ts'
import { testIssuer } from '@brewmesh/testkit/tokens.ts'
import { startHttpReceiver } from './support/http-receiver.ts'
import { INLINED } from '../../../scripts/bundle.ts'

// What a service loads to start, as deployed (its bundle, testkit startProcess): the modules it
// only needs once someone asks for them wait until then. A module hook registered before the
// preload lists every module the process loads.
const LIST_MODULES = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module'; registerHooks({ resolve(s, c, next) { const r = next(s, c); process.stderr.write('loaded ' + r.url + '\\n'); return r } })",
)}`

// Server reflection (the library, proto-loader and protobufjs with it), the health-check package
// the service no longer uses, and the OTLP metric exporter (no OTEL_EXPORTER_OTLP_ENDPOINT here).
const LOADED_ON_DEMAND = ['@grpc/reflection', '@grpc/proto-loader', '/protobufjs/', 'grpc-health-check', 'exporter-metrics-otlp']

let output = ''
let service: ServiceProcess
const env: Record<string, string> = {}
const loaded = () => output.split('\n').filter((line) => line.startsWith('loaded '))
const { grpcurl } = grpcurlAt(() => `127.0.0.1:${service.port}`)

beforeAll(async () => {
  const issuer = await testIssuer()
  Object.assign(env, isolatedEnv('favorites', inject('infra').env, { ...issuer.env, LOG_LEVEL: 'warn' }))
  await migrateProcess('favorites', env)
  service = await startProcess(
    'favorites',
    await freePort(),
    { ...env, NODE_OPTIONS: `--import=${LIST_MODULES}` },
    { onOutput: (text) => (output += text) },
  )
}, 120_000)
afterAll(async () => {
  await service?.stop()
  await dropSchema(env)
})

describe('a service start', () => {
  it('loads neither server reflection, proto-loader, protobufjs nor the OTLP metric exporter until they are asked for', () => {
    expect(loaded().some((m) => m.includes('@grpc/grpc-js'))).toBe(true)
    expect(loaded().filter((m) => LOADED_ON_DEMAND.some((name) => m.includes(name)))).toEqual([])
  })

  it('runs the packages it inlines (kysely, kafkajs, jose, BullMQ, the metrics SDK: scripts/bundle.ts INLINED) from its bundle, not as files from node_modules', () => {
    expect(loaded().filter((m) => INLINED.some((name) => m.includes(`/node_modules/${name}/`)))).toEqual([])
  })

  it('loads reflection on its first call, and grpcurl sees every service the server serves', async () => {
    expect((await grpcurl([], 'list')).trim().split('\n').sort()).toEqual([
      'brewmesh.favorites.v1.FavoritesService',
      'grpc.health.v1.Health',
    ])
    expect(loaded().some((m) => m.includes('@grpc/reflection'))).toBe(true)
    expect(await grpcurl([], 'describe', 'grpc.health.v1.Health')).toContain('rpc Watch ( .grpc.health.v1.HealthCheckRequest )')
  })

  it('answers bytes that are not a ServerReflectionRequest with INVALID_ARGUMENT, and keeps serving', async () => {
    const raw = (b: Buffer) => b
    const Reflection = makeGenericClientConstructor(
      {
        info: {
          path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
          requestStream: true,
          responseStream: true,
          requestSerialize: raw,
          requestDeserialize: raw,
          responseSerialize: raw,
          responseDeserialize: raw,
        },
      },
      'ServerReflection',
    )
    const client = new Reflection(`127.0.0.1:${service.port}`, credentials.createInsecure())
    try {
      const call = (client as unknown as { info(): NodeJS.ReadWriteStream }).info()
      const failed = new Promise<ServiceError>((resolve) => call.on('error', resolve))
      call.on('data', () => undefined)
      call.write(Buffer.from([0x0a, 0xff]))
      call.end()
      expect(await failed).toMatchObject({ code: status.INVALID_ARGUMENT })
    } finally {
      client.close()
    }
    expect(service.running()).toBe(true)
    expect((await grpcurl([], 'list')).trim().split('\n')).toContain('brewmesh.favorites.v1.FavoritesService')
  })
})

describe('a service started with an OTLP endpoint', () => {
  it('pushes its metrics over OTLP, its runtime metrics included, by the time it has stopped', async () => {
    const receiver = await startHttpReceiver()
    try {
      const traced = await startProcess('favorites', await freePort(), { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })
      expect(await traced.stop()).toBe(0)
      const metrics = Buffer.concat(receiver.received.filter((r) => r.path === '/v1/metrics').map((r) => r.body))
      expect(metrics.includes('nodejs_heap_bytes'), 'a runtime metric in what reached /v1/metrics').toBe(true)
    } finally {
      await receiver.close()
    }
  })
})
