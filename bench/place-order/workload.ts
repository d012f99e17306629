import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { ECHO_METHOD, ECHO_PROTO } from '../echo/echo-server.ts'
import { forDuration, PROTOSET } from '../lib/ghz.ts'
import { REPO } from '../lib/repo.ts'

// From the Order Service's seeded menu and the Loyalty catalog (services/order/src/db/menu-seed.ts,
// services/loyalty/src/db/migrations/0001_loyalty.ts): a latte and the 1.00-off reward (400 points).
export const LATTE = '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f601'
export const DOLLAR_OFF = '7a1c3e10-0002-4a6b-9d1e-3f2a1b000002'
export const DOLLAR_OFF_POINTS = 400
export const PLACE_ORDER_METHOD = 'brewmesh.order.v1.OrderService.PlaceOrder'

/** One customer ghz calls as: its id and a token with role customer, sub = that id. */
export interface Caller {
  customerId: string
  token: string
}

export type Target = 'echo' | 'order'

/** Closed loop: N callers, each waiting for its answer. Open loop: arrivals at a fixed rate, answered or not. */
export type Load = { kind: 'closed'; callers: number } | { kind: 'open'; rate: number }

export const describeLoad = (load: Load) => (load.kind === 'closed' ? `${load.callers} callers` : `${load.rate}/s open`)

export interface WorkloadSettings {
  /** ghz --timeout, a Go duration (2s, 1500ms): every call is answered or cancelled by then. */
  timeout: string
  streamsPerConnection: number
  ghzCpus: number
}

export interface Workload {
  /** ghz's environment: ours plus one variable per caller holding its token. */
  env: NodeJS.ProcessEnv
  /** ghz arguments for one run; calls get request ids `<requestPrefix>:<fresh UUID>`. */
  args(target: Target, load: Load, duration: string, port: number, requestPrefix: string): string[]
  remove(): void
}

const TOKEN_VAR = 'BENCH_CALLER_TOKEN_'

function seconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(duration)
  if (!match) throw new Error(`a duration like 2s or 1500ms, not ${duration}`)
  return Number(match[1]) / (match[2] === 'ms' ? 1000 : 1)
}

/**
 * Request i of a run goes to caller i mod N, with that caller's token. ghz picks element
 * i mod N of a data array (round robin by request number), while metadata can only be one
 * object; but both are templates executed with the same request number, so the metadata picks
 * the token from ghz's environment by the same index (sprig's `env`, Go's `printf` and `mod`).
 */
const metadataTemplate = (callers: number) =>
  JSON.stringify({ authorization: `Bearer {{env (printf \`${TOKEN_VAR}%d\` (mod .RequestNumber ${callers}))}}` })

function placeOrderData(callers: Caller[], requestPrefix: string) {
  return callers.map((c) => ({
    request_id: `${requestPrefix}:{{newUUID}}`,
    customer_id: c.customerId,
    lines: [
      { quantity: 1, drink: { menu_item_id: LATTE } },
      { quantity: 1, usual: {} },
    ],
    reward_ids: [DOLLAR_OFF],
  }))
}

/** The echo server gets the same shape of work from ghz: one templated element per caller, the same metadata. */
const echoData = (callers: Caller[], requestPrefix: string) => callers.map((c) => ({ id: `${requestPrefix}:${c.customerId}:{{newUUID}}` }))

/**
 * Connections and ghz workers for a load, at most `streamsPerConnection` calls in flight on each
 * connection. Open loop: up to rate x timeout calls can be in flight; one worker per connection
 * dispatches its share of the arrivals without waiting for answers (--async).
 */
function loadArgs(load: Load, settings: WorkloadSettings): string[] {
  if (load.kind === 'closed') {
    const connections = Math.ceil(load.callers / settings.streamsPerConnection)
    return ['--concurrency', String(load.callers), '--connections', String(connections)]
  }
  const inFlight = Math.ceil(load.rate * seconds(settings.timeout))
  const connections = String(Math.max(1, Math.ceil(inFlight / settings.streamsPerConnection)))
  return ['--async', '--rps', String(load.rate), '--concurrency', connections, '--connections', connections]
}

export function prepareWorkload(callers: Caller[], settings: WorkloadSettings): Workload {
  const dir = mkdtempSync(join(tmpdir(), 'brewmesh-bench-order-'))
  const metadataFile = join(dir, 'metadata.json')
  writeFileSync(metadataFile, metadataTemplate(callers.length))
  const env: NodeJS.ProcessEnv = { ...process.env }
  callers.forEach((c, i) => (env[`${TOKEN_VAR}${i}`] = c.token))
  return {
    env,
    args(target, load, duration, port, requestPrefix) {
      const dataFile = join(dir, `${requestPrefix}-${target}.json`)
      writeFileSync(
        dataFile,
        JSON.stringify(target === 'order' ? placeOrderData(callers, requestPrefix) : echoData(callers, requestPrefix)),
      )
      const what =
        target === 'order'
          ? ['--protoset', relative(REPO, PROTOSET), '--call', PLACE_ORDER_METHOD]
          : ['--proto', relative(REPO, ECHO_PROTO), '--call', ECHO_METHOD]
      return [
        '--insecure',
        ...what,
        '--data-file',
        dataFile,
        '--metadata-file',
        metadataFile,
        '--timeout',
        settings.timeout,
        '--cpus',
        String(settings.ghzCpus),
        ...loadArgs(load, settings),
        // wait: calls in flight at the end finish (within the timeout) and are counted, so every
        // order placed has its answer in the report.
        ...forDuration(duration, 'wait'),
        `127.0.0.1:${port}`,
      ]
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
