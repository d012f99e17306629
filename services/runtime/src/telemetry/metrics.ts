import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Meter } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics'
import { runtimeMetrics } from './runtime-metrics.ts'

export interface Metrics {
  meter: Meter
  /** Port of the Prometheus /metrics endpoint (resolved when 0 was asked for). */
  port: number
  stop(): Promise<void>
}

/**
 * One meter provider per app (not global), read by Prometheus on /metrics and, when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set, pushed over OTLP as well. It carries the Node runtime's own
 * metrics (event-loop delay, heap, GC: runtime-metrics.ts) besides the app's. The same port
 * answers /healthz while the process does.
 */
export async function startMetrics(options: {
  service: string
  instanceId: string
  port: number
  host?: string
  otlpEndpoint?: string | undefined
}): Promise<Metrics> {
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true })
  const readers: MetricReader[] = [prometheus]
  if (options.otlpEndpoint) {
    // Loaded only when asked for: the exporter, with its HTTP transport and protobuf encoding.
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto')
    readers.push(new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: 15_000 }))
  }
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.service, 'service.instance.id': options.instanceId }),
    readers,
  })
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/metrics')) return prometheus.getMetricsRequestHandler(req, res)
    // The process answers, without collecting anything: liveness for a process that has no gRPC
    // health (the ops exporter, whose /metrics asks Kafka at every scrape).
    if (req.url === '/healthz') return void res.end('ok\n')
    res.statusCode = 404
    res.end('not found: try /metrics\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host ?? '0.0.0.0', resolve)
  })
  const meter = provider.getMeter(`brewmesh-${options.service}`)
  const stopRuntime = runtimeMetrics(meter)
  return {
    meter,
    port: (server.address() as AddressInfo).port,
    async stop() {
      stopRuntime()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await provider.shutdown()
    },
  }
}
