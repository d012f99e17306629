import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpReceiver, type HttpReceiver, type Received } from './support/http-receiver.ts'
import { runTracedChild } from './support/run-traced-child.ts'

// An OTLP/HTTP receiver of our own: what reaches /v1/logs and /v1/traces, as raw protobuf bodies.
let receiver: HttpReceiver
let received: Received[]
let endpoint: string

beforeAll(async () => {
  receiver = await startHttpReceiver()
  ;({ received, url: endpoint } = receiver)
})
afterAll(() => receiver?.close())

/** Runs the child with the telemetry preload, exporting to this test's receiver; its trace id. */
const runChild = (env: Record<string, string>) =>
  runTracedChild({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'otlp-logs-test', ...env })

describe('logs over OTLP', () => {
  it('with OTEL_LOGS_EXPORTER=otlp, a log line reaches /v1/logs with the trace id of the span it was written in', async () => {
    received.length = 0
    const traceId = await runChild({ OTEL_LOGS_EXPORTER: 'otlp' })
    const logs = received.filter((r) => r.path === '/v1/logs')
    expect(logs.length).toBeGreaterThan(0)
    const body = Buffer.concat(logs.map((r) => r.body))
    expect(body.includes('a line that travels over OTLP')).toBe(true)
    // OTLP carries the trace id as its 16 raw bytes.
    expect(body.includes(Buffer.from(traceId, 'hex'))).toBe(true)
  })

  it('without it, no log is sent (the traces still are)', async () => {
    received.length = 0
    await runChild({})
    expect(received.filter((r) => r.path === '/v1/logs')).toEqual([])
    expect(received.filter((r) => r.path === '/v1/traces').length).toBeGreaterThan(0)
  })
})
