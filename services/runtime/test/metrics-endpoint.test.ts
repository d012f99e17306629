import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMetrics, type Metrics } from '../src/telemetry/metrics.ts'

// The metrics port is all a process without gRPC health has to be probed on (the ops exporter).
let metrics: Metrics
let base: string
let collections = 0

beforeAll(async () => {
  metrics = await startMetrics({ service: 'probe', instanceId: 'test', port: 0, host: '127.0.0.1' })
  metrics.meter.createObservableGauge('probe_collections').addCallback((result) => result.observe(++collections))
  base = `http://127.0.0.1:${metrics.port}`
})
afterAll(() => metrics.stop())

describe('the metrics endpoint', () => {
  it('when /healthz is asked, then it answers 200 without collecting the metrics', async () => {
    const res = await fetch(`${base}/healthz`)
    expect([res.status, await res.text()]).toEqual([200, 'ok\n'])
    expect(collections).toBe(0)
  })

  it('when /metrics is asked, then the metrics are collected and served', async () => {
    const res = await fetch(`${base}/metrics`)
    expect(res.status).toBe(200)
    expect(await res.text()).toMatch(/^probe_collections [1-9]\d*$/m)
  })

  it('when another path is asked, then it is not found', async () => {
    expect((await fetch(`${base}/other`)).status).toBe(404)
  })
})
