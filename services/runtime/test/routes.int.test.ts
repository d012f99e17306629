import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js'
import { metrics } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Customer } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import {
  ActivityFeedRequest,
  ActivityFeedResponse,
  CreateCustomerRequest,
  CustomerServiceService,
  ImportCustomersRequest,
  ImportCustomersResponse,
  WatchCustomerResponse,
  WatchCustomerStatsResponse,
} from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { createClient, type PromiseClient } from '@brewmesh/sdk/client.ts'
import { fieldViolationsOf, retryDelayOf } from '@brewmesh/sdk/errors.ts'
import { bearer, testIssuer, verifierOf, type TestIssuer } from '@brewmesh/testkit/tokens.ts'
import { resourceExhausted } from '../src/errors.ts'
import { createGrpcServer, type GrpcServer } from '../src/grpc/server.ts'
import { implement, messageViolations, type Routes } from '../src/grpc/routes.ts'
import { StreamRegistry } from '../src/grpc/stream-registry.ts'
import { createLogger } from '../src/logger.ts'

const FLOOD = 100
const BIG = 64 * 1024
const ME = '8f14e45f-ceea-467f-a0e6-7b2b4f3a9c10'
const SOMEONE_ELSE = '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b'
const customer = (id: string, version = 1): Customer => Customer.fromPartial({ id, displayName: 'Ada', version })

let server: GrpcServer
let issuer: TestIssuer
let address: string
let watchFinished = false
let statsYielded = 0
let statsFinished = false
const clients: { close(): void }[] = []

async function clientAs(claims: { sub: string; roles: string[] }): Promise<PromiseClient<typeof CustomerServiceService>> {
  const client = createClient(CustomerServiceService, address, credentials.createInsecure(), {
    interceptors: [bearer(await issuer.mint(claims))],
  })
  clients.push(client)
  return client
}

// A route table of stubs: what is under test is the layer around them.
const routes: Partial<Routes<typeof CustomerServiceService>> = {
  getCustomer: {
    access: { self: true, staff: ['support'] },
    about: (r) => ({ customerId: r.id }),
    handle: async (r) => ({ customer: customer(r.id) }),
  },
  createCustomer: {
    access: { staff: ['operator'] },
    about: 'nobody',
    write: true,
    handle: async () => ({ customer: customer(ME) }),
  },
  // Forgets to authorize the customer it was told to check: must fail closed.
  recordLogin: {
    access: { self: true },
    about: 'handler',
    handle: async (r) => ({ customer: customer(r.id) }),
  },
  watchCustomer: {
    access: { self: true, staff: ['support'] },
    about: (r) => ({ customerId: r.id }),
    async *handle(r, call) {
      try {
        for (let version = 1; ; version++) {
          yield WatchCustomerResponse.fromPartial({ customer: customer(r.id, version) })
          await new Promise((resolve) => setTimeout(resolve, 5))
          if (call.signal.aborted) return
        }
      } finally {
        watchFinished = true
      }
    },
  },
  // Staff get a flood of big messages (what a slow reader must hold back); a customer it never
  // authorizes (it forgets to), so the first message must be refused and the handler closed.
  watchCustomerStats: {
    access: { self: true, staff: ['support'] },
    about: 'handler',
    async *handle() {
      try {
        for (let i = 0; i < FLOOD; i++) {
          statsYielded++
          yield WatchCustomerStatsResponse.fromPartial({ stats: { customerId: `${i}:`.padEnd(BIG, 'x') } })
        }
      } finally {
        statsFinished = true
      }
    },
  },
  importCustomers: {
    access: { staff: ['operator'] },
    about: 'nobody',
    invalidMessages: 'deliver',
    async handle(rows) {
      let received = 0
      const failures: { rowNumber: string; reason: string; fields: string[] }[] = []
      for await (const row of rows) {
        received++
        const bad = messageViolations(row)
        if (bad.length > 0) failures.push({ rowNumber: row.rowNumber, reason: 'invalid', fields: bad.map((v) => v.field) })
      }
      return ImportCustomersResponse.fromPartial({ received: String(received), failed: String(failures.length), failures })
    },
  },
  activityFeed: {
    access: { self: true, staff: ['support'] },
    about: 'handler',
    async *handle(requests, call) {
      for await (const r of requests) {
        if (r.action?.$case !== 'subscribe') continue
        const target = r.action.value.target
        call.authorize(target?.$case === 'customerId' ? { customerId: target.value } : {})
        yield ActivityFeedResponse.fromPartial({ message: { $case: 'ack', value: { subscription: r.action.value, subscribed: true } } })
      }
    },
  },
}

beforeAll(async () => {
  issuer = await testIssuer()
  const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
  const writes = new Map<string, number>()
  server = createGrpcServer({
    service: 'routes_test',
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 4 * 1024 * 1024,
    shutdownGraceMs: 1000,
    log,
    meter: metrics.getMeter('test'),
    verifyToken: await verifierOf(issuer),
    admission: { maxInFlight: 100, maxQueued: 0, maxQueueMs: 0, maxStreams: 100, retryAfterMs: 100, targetLatencyMs: 0, minInFlight: 1 },
    // One write per caller, then RESOURCE_EXHAUSTED.
    limitWrites: async (caller) => {
      const n = (writes.get(caller.subject) ?? 0) + 1
      writes.set(caller.subject, n)
      if (n > 1) throw resourceExhausted('one write per caller', 1000)
    },
  })
  server.serve(CustomerServiceService, routes as Routes<typeof CustomerServiceService>)
  address = `127.0.0.1:${await server.listen()}`
})
afterAll(async () => {
  for (const c of clients) c.close()
  await server?.stop()
})

const failure = async (work: Promise<unknown>): Promise<ServiceError> => {
  try {
    await work
  } catch (err) {
    return err as ServiceError
  }
  throw new Error('expected the call to fail')
}

describe('a route', () => {
  it('when the request breaks the contract limits, then it is INVALID_ARGUMENT naming the field, before any handler or check', async () => {
    const me = await clientAs({ sub: ME, roles: ['customer'] })
    const err = await failure(me.getCustomer({ id: `${ME.slice(0, 8)}\0` }))
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(err)).toEqual([{ field: 'id', description: 'must not contain a NUL character' }])
  })

  it('when a string is not valid UTF-8 on the wire, then it is INVALID_ARGUMENT, not a lossy read', async () => {
    const raw = new Client(address, credentials.createInsecure(), {
      interceptors: [bearer(await issuer.mint({ sub: 'support-1', roles: ['support'] }))],
    })
    clients.push(raw)
    const err = await new Promise<ServiceError>((resolve) =>
      raw.makeUnaryRequest(
        '/brewmesh.customer.v1.CustomerService/GetCustomer',
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        Buffer.from([0x0a, 0x02, 0xff, 0xfe]),
        new Metadata(),
        (e) => resolve(e!),
      ),
    )
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(fieldViolationsOf(err)).toEqual([{ field: 'id', description: 'is not valid UTF-8' }])
  })

  it('when the bytes are not a message at all, then grpc-js answers INTERNAL and the server is told, to count and log it', async () => {
    const raw = new Client(address, credentials.createInsecure(), {
      interceptors: [bearer(await issuer.mint({ sub: 'support-1', roles: ['support'] }))],
    })
    clients.push(raw)
    // Field 1, length 16, and one byte of it: truncated.
    const garbage = Buffer.from([0x0a, 0x10, 0x01])
    const err = await new Promise<ServiceError>((resolve) =>
      raw.makeUnaryRequest(
        '/brewmesh.customer.v1.CustomerService/GetCustomer',
        (b: Buffer) => b,
        (b: Buffer) => b,
        garbage,
        new Metadata(),
        (e) => resolve(e!),
      ),
    )
    expect(err.code).toBe(status.INTERNAL)

    const told: string[] = []
    const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
    const served = implement(CustomerServiceService, routes as Routes<typeof CustomerServiceService>, {
      log,
      streams: new StreamRegistry(),
      limitWrites: async () => undefined,
      unparseable: (rpc) => told.push(rpc),
    })
    expect(() => served.definition.getCustomer.requestDeserialize(garbage)).toThrow()
    expect(told).toEqual(['GetCustomer'])
    expect(served.definition.getCustomer.requestDeserialize(Buffer.from([0x0a, 0x01, 0x41]))).toMatchObject({ id: 'A' })
    expect(told).toEqual(['GetCustomer'])
  })

  it('authorizes before the handler: a customer reaches their own record, not another one; staff by role', async () => {
    const me = await clientAs({ sub: ME, roles: ['customer'] })
    expect((await me.getCustomer({ id: ME })).customer?.id).toBe(ME)
    expect((await failure(me.getCustomer({ id: SOMEONE_ELSE }))).code).toBe(status.PERMISSION_DENIED)
    const support = await clientAs({ sub: 'support-2', roles: ['support'] })
    expect((await support.getCustomer({ id: SOMEONE_ELSE })).customer?.id).toBe(SOMEONE_ELSE)
  })

  it('when a handler answers a customer it was meant to authorize and did not, then the call is refused', async () => {
    const me = await clientAs({ sub: ME, roles: ['customer'] })
    expect((await failure(me.recordLogin({ id: ME }))).code).toBe(status.PERMISSION_DENIED)
  })

  it('counts a write against the caller limit after authorization', async () => {
    const operator = await clientAs({ sub: 'operator-1', roles: ['operator'] })
    await operator.createCustomer(CreateCustomerRequest.fromPartial({}))
    const err = await failure(operator.createCustomer(CreateCustomerRequest.fromPartial({})))
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED)
    expect(retryDelayOf(err)).toBe(1000)
  })
})

describe('streams', () => {
  it('a server stream is written as the handler yields, and the handler is closed when the caller leaves', async () => {
    const me = await clientAs({ sub: ME, roles: ['customer'] })
    const versions: number[] = []
    for await (const change of me.watchCustomer({ id: ME })) {
      versions.push(change.customer?.version ?? 0)
      if (versions.length === 3) break
    }
    expect(versions).toEqual([1, 2, 3])
    await expect.poll(() => watchFinished).toBe(true)
  })

  it('a server stream waits for a slow reader: the handler is held back until the client reads on', async () => {
    const support = await clientAs({ sub: 'support-3', roles: ['support'] })
    const flood: AsyncIterator<WatchCustomerStatsResponse> = support.watchCustomerStats({ customerId: ME })[Symbol.asyncIterator]()
    const first = await flood.next()
    expect(!first.done && first.value.stats?.customerId.startsWith('0:')).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 500))
    // Flow control and the stream's buffer hold some; without backpressure all 100 would be out.
    expect(statsYielded).toBeLessThan(FLOOD)
    let received = 1
    for (let step = await flood.next(); !step.done; step = await flood.next()) {
      expect(step.value.stats?.customerId.startsWith(`${received}:`)).toBe(true)
      received++
    }
    expect([received, statsYielded]).toEqual([FLOOD, FLOOD])
  })

  it('when a server stream answers a customer its handler never authorized, then the call is refused and the handler closed', async () => {
    statsFinished = false
    const me = await clientAs({ sub: ME, roles: ['customer'] })
    const refused = await failure(
      (async () => {
        for await (const _ of me.watchCustomerStats({ customerId: ME }));
      })(),
    )
    expect(refused.code).toBe(status.PERMISSION_DENIED)
    await expect.poll(() => statsFinished).toBe(true)
  })

  it('a client stream can take invalid messages as reports and go on with the rest', async () => {
    const operator = await clientAs({ sub: 'operator-2', roles: ['operator'] })
    const rows = [
      { rowNumber: '1', username: 'ada' },
      { rowNumber: '2', username: 'bad\0' },
      { rowNumber: '3', username: 'grace' },
    ].map((r) => ImportCustomersRequest.fromPartial(r))
    const summary = await operator.importCustomers(rows)
    expect(summary.received).toBe('3')
    expect(summary.failures).toEqual([{ rowNumber: '2', reason: 'invalid', fields: ['username'] }])
  })

  it('a bidirectional stream answers each message, authorized per message', async () => {
    const me = await clientAs({ sub: ME, roles: ['customer'] })
    const subscribe = (id: string) =>
      ActivityFeedRequest.fromPartial({ action: { $case: 'subscribe', value: { target: { $case: 'customerId', value: id } } } })
    const answers: unknown[] = []
    for await (const answer of me.activityFeed([subscribe(ME)])) {
      const m = answer.message
      if (m?.$case === 'ack') answers.push(m.value.subscription?.target?.value)
    }
    expect(answers).toEqual([ME])
    const refused = await failure(
      (async () => {
        for await (const _ of me.activityFeed([subscribe(SOMEONE_ELSE)]));
      })(),
    )
    expect(refused.code).toBe(status.PERMISSION_DENIED)
  })
})
