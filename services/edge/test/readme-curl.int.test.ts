import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '@brewmesh/testkit/infra.ts'
import { HOUSEHOLD, startEdgeOverMesh, type EdgeUnderTest } from './support.ts'

const run = promisify(execFile)

/** The curl lines of the root README's edge section, by the comment above each. */
function readmeCurlLines(): Map<string, string> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const block = /<!-- edge-curl:start -->\s*```sh\n([\s\S]*?)```\s*<!-- edge-curl:end -->/.exec(readme)?.[1]
  if (!block) throw new Error('README.md has no edge-curl block')
  const lines = new Map<string, string>()
  let comment = ''
  for (const line of block.split('\n')) {
    if (line.startsWith('#')) comment = line
    else if (line.trim()) lines.set(comment, line)
  }
  return lines
}

const lineAbout = (lines: Map<string, string>, words: string) => {
  const found = [...lines].find(([comment]) => comment.includes(words))
  if (!found) throw new Error(`no README curl line under a comment with "${words}"`)
  return found[1]
}

let t: EdgeUnderTest
let env: Record<string, string>
const lines = readmeCurlLines()

/** Runs a README line in bash as pasted, with what `scripts/up.sh` exports; returns curl's JSON answer. */
async function pasted(words: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('bash', ['-c', lineAbout(lines, words)], { env: { ...process.env, ...env } })
  return JSON.parse(stdout) as Record<string, unknown>
}

beforeAll(async () => {
  t = await startEdgeOverMesh()
  const { customer, token } = await t.newCustomer()
  env = { EDGE: t.url, CUSTOMER_TOKEN: token, CUSTOMER_ID: customer.id }
})
afterAll(async () => {
  await t?.stop()
})

describe('the README curl lines, pasted against the edge in front of the mesh', () => {
  it('GetCustomer with the customer token answers their profile as JSON', async () => {
    expect(await pasted('GetCustomer')).toMatchObject({
      customer: { id: env['CUSTOMER_ID'], firstName: 'Ada', householdId: HOUSEHOLD },
    })
  })

  it('PlaceOrder places an oat latte for the customer, priced by the Order Service', async () => {
    const answer = (await pasted('PlaceOrder')) as {
      order: { id: string; customerId: string; lines: unknown[]; total: { amountMinor: string } }
    }
    expect(answer.order).toMatchObject({ customerId: env['CUSTOMER_ID'], lines: [expect.objectContaining({ quantity: 1 })] })
    expect(Number(answer.order.total.amountMinor)).toBeGreaterThan(0)
  })

  it('a request that breaks the contract answers invalid_argument with each field violation readable', async () => {
    const answer = (await pasted('validation error')) as {
      code: string
      details: { type: string; debug?: { fieldViolations?: { field: string }[] } }[]
    }
    expect(answer.code).toBe('invalid_argument')
    const badRequest = answer.details.find((d) => d.type === 'google.rpc.BadRequest')
    const fields = badRequest?.debug?.fieldViolations?.map((v) => v.field)
    expect(fields).toEqual(expect.arrayContaining(['request_id', 'lines']))
  })

  it('a call without a token is refused at the edge: unauthenticated', async () => {
    const answer = (await pasted('no token')) as { code: string; message: string }
    expect(answer.code).toBe('unauthenticated')
    expect(answer.message).toContain('bearer token')
  })

  it('readiness lists every upstream as serving', async () => {
    expect(await pasted('readiness')).toEqual({ upstreams: { customer: true, order: true, loyalty: true, favorites: true } })
  })
})
