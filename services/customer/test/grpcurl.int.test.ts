import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '@brewmesh/testkit/infra.ts'
import { cleanup, customerEnv, STAFF, startCustomer, type Running } from './support.ts'

// The real grpcurl (scripts/tools.sh puts it in .stack/bin), as developers will call the service:
// everything it knows comes from server reflection.
const GRPCURL = [join(REPO_ROOT, '.stack/bin/grpcurl'), 'grpcurl'].find((p) => p === 'grpcurl' || existsSync(p))!
const run = promisify(execFile)
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

/** grpcurl -plaintext [flags] <address> [verb and symbol | method] */
const grpcurl = async (flags: string[], ...rest: string[]) =>
  (await run(GRPCURL, ['-plaintext', ...flags, `127.0.0.1:${svc.app.grpcPort}`, ...rest])).stdout
let token = ''
const grpcurlData = (data: object, method: string) => grpcurl(['-H', `authorization: Bearer ${token}`, '-d', JSON.stringify(data)], method)

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
    const created = JSON.parse(
      await grpcurlData(
        { username: `grace_${tag}`, display_name: 'Grace', first_name: 'Grace', last_name: 'Hopper', email: `grace.${tag}@example.com` },
        'brewmesh.customer.v1.CustomerService/CreateCustomer',
      ),
    ) as { customer: { id: string; email: string } }
    const fetched = JSON.parse(
      await grpcurlData({ id: created.customer.id }, 'brewmesh.customer.v1.CustomerService/GetCustomer'),
    ) as typeof created
    expect(fetched.customer).toMatchObject({ id: created.customer.id, email: `grace.${tag}@example.com` })
    expect(JSON.parse(await grpcurl([], 'grpc.health.v1.Health/Check'))).toEqual({ status: 'SERVING' })
  })

  it('is refused without a token, while health and reflection stay open', async () => {
    const err = (await grpcurl(['-d', '{}'], 'brewmesh.customer.v1.CustomerService/ListCustomers').catch(
      (e: { stdout: string; stderr: string }) => e,
    )) as {
      stdout: string
      stderr: string
    }
    expect(`${err.stdout}${err.stderr}`).toContain('Unauthenticated')
  })

  it('shows the field violations of a bad request', async () => {
    const err = await grpcurlData({ username: 'x' }, 'brewmesh.customer.v1.CustomerService/CreateCustomer').catch(
      (e: { stdout: string; stderr: string }) => e,
    )
    expect(typeof err).toBe('object')
    const output = `${(err as { stdout: string }).stdout}${(err as { stderr: string }).stderr}`
    expect(output).toContain('InvalidArgument')
    expect(output).toContain('"field": "username"')
  })
})
