import { createTokenVerifier } from '@brewmesh/runtime/auth/verifier.ts'
import { stopInReverse } from '@brewmesh/runtime/lifecycle.ts'
import { createLogger, type Logger } from '@brewmesh/runtime/logger'
import { startMetrics } from '@brewmesh/runtime/telemetry/metrics.ts'
import { callRecorder } from './call-metrics.ts'
import type { EdgeConfig } from './config.ts'
import { forwardingRoutes } from './forward.ts'
import { startEdgeServer } from './http-server.ts'
import { PUBLIC_API } from './public-api.ts'
import { createRateLimiter } from './rate-limit.ts'
import { watchUpstreams } from './upstream-health.ts'
import { connectUpstreams } from './upstreams.ts'

export interface Edge {
  /** Port of the public API (gRPC, gRPC-Web, Connect), the probes and the web page. */
  port: number
  metricsPort: number
  log: Logger
  stop(): Promise<void>
}

export interface EdgeOptions {
  log?: Logger
}

/**
 * The edge: metrics, the token verifier, a connection per upstream and their health, then the
 * public server forwarding every method of the four services. Stopped in reverse: the server
 * first (so nothing new comes in while the upstreams are still there), the metrics last.
 */
export async function startEdge(config: EdgeConfig, options: EdgeOptions = {}): Promise<Edge> {
  const log = options.log ?? createLogger({ level: config.log.level, service: 'edge', instanceId: config.instanceId })
  const parts: { name: string; stop(): Promise<void> }[] = []
  const stop = stopInReverse(log, parts)
  try {
    const metrics = await startMetrics({
      service: 'edge',
      instanceId: config.instanceId,
      port: config.metrics.port,
      otlpEndpoint: config.telemetry.otlpEndpoint,
    })
    parts.push({ name: 'metrics', stop: metrics.stop })
    const verify = await createTokenVerifier(config.auth)
    const upstreams = connectUpstreams(config)
    parts.push({ name: 'upstreams', stop: upstreams.stop })
    const health = watchUpstreams({
      upstreams: PUBLIC_API.map(({ upstream, service }) => ({ upstream: upstreams.get(upstream), service })),
      intervalMs: config.health.intervalMs,
      meter: metrics.meter,
      log,
    })
    parts.push({ name: 'upstream health', stop: health.stop })
    await health.refresh()
    const server = await startEdgeServer({
      config,
      routes: forwardingRoutes({
        upstreams,
        health,
        verify,
        limiter: createRateLimiter(config.rateLimit),
        record: callRecorder(metrics.meter, log),
        defaultTimeoutMs: config.http.defaultTimeoutMs,
        log,
      }),
      readiness: () => {
        const upstreamsServing = health.snapshot()
        return { ready: Object.values(upstreamsServing).some(Boolean), body: { upstreams: upstreamsServing } }
      },
    })
    parts.push({ name: 'server', stop: server.stop })
    log.info({ port: server.port, metricsPort: metrics.port, upstreams: config.upstreams, serving: health.snapshot() }, 'edge started')
    return { port: server.port, metricsPort: metrics.port, log, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
