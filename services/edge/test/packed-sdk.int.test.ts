import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '@brewmesh/testkit/infra.ts'
import { startEdgeOverMesh, type EdgeUnderTest } from './support.ts'

const run = promisify(execFile)
const SDK = join(REPO_ROOT, 'services/sdk')

// A consumer of the published SDK, in TypeScript as a user would write it: the Node client
// straight to the Customer service over gRPC, and the edge client (Connect over fetch) through
// the edge; both read the field violations of a bad PlaceOrder. It prints what it got as JSON.
const CONSUMER = `
import { bearerToken, createClient, credentials, CustomerServiceService, fieldViolationsOf, OrderServiceService } from '@brewmesh/sdk'
import { createEdgeClients, edgeFieldViolationsOf } from '@brewmesh/sdk/edge'

const { CUSTOMER_ADDR, ORDER_ADDR, EDGE, TOKEN, CUSTOMER_ID } = process.env as Record<string, string>
const auth = { interceptors: [bearerToken(TOKEN)] }
const customers = createClient(CustomerServiceService, CUSTOMER_ADDR, credentials.createInsecure(), auth)
const orders = createClient(OrderServiceService, ORDER_ADDR, credentials.createInsecure(), auth)
const direct = await customers.getCustomer({ id: CUSTOMER_ID })
const directViolations = await orders
  .placeOrder({ requestId: '', customerId: CUSTOMER_ID, lines: [], rewardIds: [], note: '' })
  .then(() => [], fieldViolationsOf)
customers.close()
orders.close()

const edge = createEdgeClients({ baseUrl: EDGE, token: TOKEN })
const viaEdge = await edge.customers.getCustomer({ id: CUSTOMER_ID })
const edgeViolations = await edge.orders.placeOrder({ requestId: '', customerId: CUSTOMER_ID, lines: [] }).then(() => [], edgeFieldViolationsOf)

console.log(JSON.stringify({
  direct: direct.customer?.id,
  viaEdge: viaEdge.customer?.id,
  directFields: directViolations.map((v) => v.field),
  edgeFields: edgeViolations.map((v) => v.field),
}))
`

let t: EdgeUnderTest
let scratch: string
beforeAll(async () => {
  // Built and packed as a release would be, installed where no workspace package can be found.
  await run(process.execPath, ['scripts/build.ts'], { cwd: SDK })
  scratch = await mkdtemp(join(tmpdir(), 'brewmesh-sdk-consumer-'))
  await run('npm', ['pack', '--pack-destination', scratch], { cwd: join(SDK, 'dist') })
  const tarball = (await readdir(scratch)).find((f) => f.endsWith('.tgz'))!
  await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--registry=https://registry.npmjs.org/', `./${tarball}`, '@types/node@24'], {
    cwd: scratch,
  })
  await writeFile(join(scratch, 'consumer.ts'), CONSUMER)
  t = await startEdgeOverMesh()
}, 300_000)
afterAll(async () => {
  await t?.stop()
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

describe('the packed SDK, installed with npm in an empty folder outside the repo', () => {
  it('type-checks against its .d.ts and calls the running mesh: directly over gRPC and through the edge', async () => {
    await run(
      process.execPath,
      [
        join(REPO_ROOT, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--target',
        'es2024',
        '--skipLibCheck',
        'consumer.ts',
      ],
      { cwd: scratch },
    )
    const { customer, token } = await t.newCustomer()
    const { stdout } = await run(process.execPath, ['consumer.ts'], {
      cwd: scratch,
      env: {
        PATH: process.env['PATH'],
        CUSTOMER_ADDR: `127.0.0.1:${t.mesh.customer.app.grpcPort}`,
        ORDER_ADDR: t.mesh.order.address,
        EDGE: t.url,
        TOKEN: token,
        CUSTOMER_ID: customer.id,
      },
    })
    const answer = JSON.parse(stdout) as { direct: string; viaEdge: string; directFields: string[]; edgeFields: string[] }
    expect(answer.direct).toBe(customer.id)
    expect(answer.viaEdge).toBe(customer.id)
    expect(answer.directFields).toEqual(expect.arrayContaining(['request_id', 'lines']))
    expect(answer.edgeFields).toEqual(answer.directFields)
  })
})
