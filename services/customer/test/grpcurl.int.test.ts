import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { grpcurlAt } from '@brewmesh/testkit/grpcurl.ts'
import { cleanup, customerEnv, STAFF, startCustomer, type Running } from './support.ts'

let svc: Running
const env = customerEnv()
beforeAll(async () => {
  svc = await startCustomer(env, { waitForFeed: false })
  token = await svc.issuer.mint(STAFF)
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const { grpcurl, call, failureOf } = grpcurlAt(() => `127.0.0.1:${svc.app.grpcPort}`)
let token = ''

describe('grpcurl against the running service', () => {
  it('lists exactly the services this server serves', async () => {
    expect((await grpcurl([], 'list')).trim().split('\n').sort()).toEqual(['brewmesh.customer.v1.CustomerService', 'grpc.health.v1.Health'])
  })

  it('describes the service and its messages', async () => {
    const service = await grpcurl([], 'describe', 'brewmesh.customer.v1.CustomerService')
    expect(service).toContain(
      'rpc WatchCustomer ( .brewmesh.customer.v1.WatchCustomerRequest ) returns ( stream .brewmesh.customer.v1.WatchCustomerResponse );',
    )
    expect(service).toContain(
      'rpc ActivityFeed ( stream .brewmesh.customer.v1.ActivityFeedRequest ) returns ( stream .brewmesh.customer.v1.ActivityFeedResponse );',
    )
    const message = await grpcurl([], 'describe', 'brewmesh.customer.v1.Customer')
    expect(message).toContain('.google.protobuf.Timestamp registered_at')
  })

  it('creates and gets a customer, and checks health', async () => {
    const tag = Date.now().toString(36)
    const created = await call<{ customer: { id: string; email: string } }>(
      token,
      { username: `grace_${tag}`, display_name: 'Grace', first_name: 'Grace', last_name: 'Hopper', email: `grace.${tag}@example.com` },
      'brewmesh.customer.v1.CustomerService/CreateCustomer',
    )
    const fetched = await call<typeof created>(token, { id: created.customer.id }, 'brewmesh.customer.v1.CustomerService/GetCustomer')
    expect(fetched.customer).toMatchObject({ id: created.customer.id, email: `grace.${tag}@example.com` })
    expect(JSON.parse(await grpcurl([], 'grpc.health.v1.Health/Check'))).toEqual({ status: 'SERVING' })
  })

  it('is refused without a token, while health and reflection stay open', async () => {
    expect(await failureOf(grpcurl(['-d', '{}'], 'brewmesh.customer.v1.CustomerService/ListCustomers'))).toContain('Unauthenticated')
  })

  it('shows the field violations of a bad request', async () => {
    const output = await failureOf(call(token, { username: 'x' }, 'brewmesh.customer.v1.CustomerService/CreateCustomer'))
    expect(output).toContain('InvalidArgument')
    expect(output).toContain('"field": "username"')
  })
})
