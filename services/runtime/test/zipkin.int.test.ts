import { createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpReceiver, type HttpReceiver, type Received } from './support/http-receiver.ts'
import { runTracedChild, runTracedChildOutput } from './support/run-traced-child.ts'

// A Zipkin collector of our own: what reaches it, with the path and the JSON body as sent.
let collector: HttpReceiver
let received: Received[]
let base: string

beforeAll(async () => {
  collector = await startHttpReceiver(202)
  ;({ received, url: base } = collector)
})
afterAll(() => collector?.close())

/** The child's environment: the telemetry preload and no OTLP endpoint, then `env`. */
const childEnv = (env: Record<string, string>) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
  OTEL_TRACES_EXPORTER: '',
  OTEL_LOG_LEVEL: '',
  OTEL_SERVICE_NAME: 'zipkin-test',
  ...env,
})
/** Runs the child; the trace id it printed. */
const runChild = (env: Record<string, string>) => runTracedChild(childEnv(env))

/** An address nothing listens on: a server's port, once that server is closed. */
async function closedEndpoint(): Promise<string> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return `http://127.0.0.1:${port}/api/v2/spans`
}

/** The JSON lines of a child's stdout the OpenTelemetry SDK wrote about itself. */
const sdkLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: string; service: string; component?: string; msg: string })
    .filter((l) => l.component === 'opentelemetry')

interface ZipkinSpan {
  traceId: string
  name: string
  localEndpoint?: { serviceName?: string }
}

describe('traces to Zipkin', () => {
  it('with OTEL_TRACES_EXPORTER=zipkin, the span reaches /api/v2/spans as Zipkin JSON, with its trace id and the service name', async () => {
    received.length = 0
    const traceId = await runChild({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${base}/api/v2/spans` })

    expect(received.map((r) => r.path)).toEqual(['/api/v2/spans'])
    const spans = JSON.parse(received[0]!.body.toString('utf8')) as ZipkinSpan[]
    expect(spans.map((s) => [s.traceId, s.name, s.localEndpoint?.serviceName])).toEqual([[traceId, 'work', 'zipkin-test']])
  })

  it('with no exporter configured, nothing is loaded: the span is the no-op API’s and nothing is sent', async () => {
    received.length = 0
    const traceId = await runChild({ OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${base}/api/v2/spans` })

    expect(traceId).toBe('0'.repeat(32))
    expect(received).toEqual([])
  })

  it('when Zipkin cannot be reached by a running service, the spans it drops are an error line in its log (JSON, like its other lines)', async () => {
    const out = await runTracedChildOutput(
      childEnv({
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: await closedEndpoint(),
        OTEL_BSP_SCHEDULE_DELAY: '50',
        TRACED_CHILD_LINGER_MS: '1500',
      }),
    )

    const errors = sdkLines(out).filter((l) => l.level === 'error' && !l.msg.includes('at shutdown'))
    expect(errors.length).toBeGreaterThan(0)
    expect(errors[0]).toMatchObject({ service: 'zipkin-test', component: 'opentelemetry' })
  })

  it('when Zipkin cannot be reached as a service stops, the spans not exported at shutdown are an error line', async () => {
    const out = await runTracedChildOutput(
      childEnv({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: await closedEndpoint() }),
    )

    const errors = sdkLines(out).filter((l) => l.level === 'error')
    expect(errors.map((l) => l.msg)).toEqual([expect.stringMatching(/^spans not exported at shutdown: /)])
  })

  it('with OTEL_LOG_LEVEL=none, the SDK says nothing, even when its spans are dropped', async () => {
    const out = await runTracedChildOutput(
      childEnv({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: await closedEndpoint(), OTEL_LOG_LEVEL: 'none' }),
    )

    expect(out).toMatch(/^trace-id \w+$/m)
    expect(sdkLines(out)).toEqual([])
  })
})
