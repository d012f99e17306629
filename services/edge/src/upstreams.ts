import type { Transport } from '@connectrpc/connect'
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node'
import { UPSTREAMS, type EdgeConfig, type UpstreamName } from './config.ts'

/** One service behind the edge: where it is, and the gRPC transport calls to it go through. */
export interface Upstream {
  name: UpstreamName
  address: string
  transport: Transport
}

export interface Upstreams {
  get(name: UpstreamName): Upstream
  all(): Upstream[]
  /** Closes every connection; calls still open fail. */
  stop(): Promise<void>
}

/**
 * A gRPC (HTTP/2, plaintext inside the mesh) transport per upstream, each on one HTTP/2
 * connection multiplexing every call, kept alive by pings so a vanished peer is noticed between
 * health probes. Deadlines are per call (forward.ts).
 */
export function connectUpstreams(config: EdgeConfig): Upstreams {
  const sessions: Http2SessionManager[] = []
  const upstreams = new Map<UpstreamName, Upstream>()
  for (const name of UPSTREAMS) {
    const address = config.upstreams[name]
    // The services' own form (`dns:///host:port`, grpc-js) is accepted too: connect-node wants host:port.
    const baseUrl = `http://${address.replace(/^dns:\/\/\//, '')}`
    const sessionManager = new Http2SessionManager(baseUrl, { pingIntervalMs: 10_000, pingTimeoutMs: 5_000, idleConnectionTimeoutMs: 0 })
    sessions.push(sessionManager)
    const transport = createGrpcTransport({
      baseUrl,
      sessionManager,
      readMaxBytes: config.http.maxMessageBytes,
      writeMaxBytes: config.http.maxMessageBytes,
    })
    upstreams.set(name, { name, address, transport })
  }
  return {
    get: (name) => upstreams.get(name)!,
    all: () => [...upstreams.values()],
    async stop() {
      for (const session of sessions) session.abort()
    },
  }
}
