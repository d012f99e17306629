import type { DescService } from '@bufbuild/protobuf'
import { createClient } from '@connectrpc/connect'
import type { Meter } from '@opentelemetry/api'
import { Health, HealthCheckResponse_ServingStatus as Serving } from '@brewmesh/gen/es/grpc/health/v1/health_pb.js'
import type { Logger } from '@brewmesh/runtime/logger'
import type { UpstreamName } from './config.ts'
import type { Upstream } from './upstreams.ts'

export interface UpstreamHealth {
  /** Whether the upstream answered SERVING for its service at the last probe. */
  serving(name: UpstreamName): boolean
  /** Each upstream's state, for the readiness answer. */
  snapshot(): Record<UpstreamName, boolean>
  /** Probes every upstream now (also at start-up). */
  refresh(): Promise<void>
  stop(): Promise<void>
}

/**
 * Asks each upstream's grpc.health.v1 for its public service on an interval. An upstream that is
 * not SERVING (down, draining, or missing a required dependency) fails only its own routes at the
 * edge, at once and with UNAVAILABLE, while the others go on. `edge_upstream_up{upstream}` shows it.
 */
export function watchUpstreams(options: {
  upstreams: readonly { upstream: Upstream; service: DescService }[]
  intervalMs: number
  meter: Meter
  log: Logger
}): UpstreamHealth {
  const { log } = options
  const state = new Map<UpstreamName, boolean>()
  const probes = options.upstreams.map(({ upstream, service }) => ({ upstream, service, client: createClient(Health, upstream.transport) }))

  options.meter
    .createObservableGauge('edge_upstream_up', { description: 'whether each upstream service answered SERVING at the last health probe' })
    .addCallback((result) => {
      for (const [upstream, up] of state) result.observe(up ? 1 : 0, { upstream })
    })

  const probe = async ({ upstream, service, client }: (typeof probes)[number]) => {
    const up = await client.check({ service: service.typeName }, { timeoutMs: Math.min(options.intervalMs, 2000) }).then(
      (answer) => answer.status === Serving.SERVING,
      () => false,
    )
    const was = state.get(upstream.name)
    if (was !== up) {
      if (up) log.info({ upstream: upstream.name, address: upstream.address }, 'upstream serving')
      else log.warn({ upstream: upstream.name, address: upstream.address }, 'upstream not serving: its routes answer UNAVAILABLE')
    }
    state.set(upstream.name, up)
  }

  const refresh = async () => {
    await Promise.all(probes.map(probe))
  }
  let running: Promise<void> = Promise.resolve()
  const timer = setInterval(() => {
    running = refresh().catch((err: unknown) => log.error({ err }, 'upstream health refresh failed'))
  }, options.intervalMs)
  timer.unref()

  return {
    serving: (name) => state.get(name) === true,
    snapshot: () => Object.fromEntries(state) as Record<UpstreamName, boolean>,
    refresh,
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}
