import { readFileSync } from 'node:fs'
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
 * A gRPC transport per upstream (HTTP/2: plaintext h2c, or TLS with OUTBOUND_TLS_CA_FILE), each on one HTTP/2
 * connection multiplexing every call, kept alive by pings so a vanished peer is noticed between
 * health probes. Deadlines are per call (forward.ts).
 */
export function connectUpstreams(config: EdgeConfig): Upstreams {
  const sessions: Http2SessionManager[] = []
  // Read once at start, like the services' own certificate files: a rotated CA needs a restart.
  const ca = config.upstreamTlsCaFile ? readFileSync(config.upstreamTlsCaFile) : undefined
  const upstreams = new Map<UpstreamName, Upstream>()
  for (const name of UPSTREAMS) {
    const address = config.upstreams[name]
    // The services' own form (`dns:///host:port`, grpc-js) is accepted too: connect-node wants host:port.
    const hostPort = address.replace(/^dns:\/\/\//, '')
    const baseUrl = `${ca ? 'https' : 'http'}://${hostPort}`
    const ping = { pingIntervalMs: 10_000, pingTimeoutMs: 5_000, idleConnectionTimeoutMs: 0 }
    // With TLS the upstream's certificate must be signed by the CA and name the host dialled.
    const sessionManager = new Http2SessionManager(baseUrl, ping, ca ? { ca } : undefined)
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
