import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runTracedChild } from './support/run-traced-child.ts'

// A Zipkin collector of our own: what reaches it, with the path and the JSON body as sent.
const received: { path: string; body: string }[] = []
let server: Server
let base: string

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (c: string) => (body += c))
    req.on('end', () => {
      received.push({ path: req.url ?? '', body })
      res.writeHead(202).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

/** Runs the child with the telemetry preload and no OTLP endpoint; its stdout (the trace id). */
const runChild = (env: Record<string, string>) =>
  runTracedChild({
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    OTEL_TRACES_EXPORTER: '',
    OTEL_SERVICE_NAME: 'zipkin-test',
    ...env,
  })

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
    const spans = JSON.parse(received[0]!.body) as ZipkinSpan[]
    expect(spans.map((s) => [s.traceId, s.name, s.localEndpoint?.serviceName])).toEqual([[traceId, 'work', 'zipkin-test']])
  })

  it('with no exporter configured, nothing is loaded: the span is the no-op API’s and nothing is sent', async () => {
    received.length = 0
    const traceId = await runChild({ OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${base}/api/v2/spans` })

    expect(traceId).toBe('0'.repeat(32))
    expect(received).toEqual([])
  })
})
