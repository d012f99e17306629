import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { createContextValues, type ConnectRouter } from '@connectrpc/connect'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import { cleartextPort } from './cleartext-port.ts'
import type { EdgeConfig } from './config.ts'
import { corsFor } from './cors.ts'
import { CLIENT_ADDRESS } from './forward.ts'
import { answer, staticFiles } from './static-files.ts'

type Request = IncomingMessage | Http2ServerRequest
type Response = ServerResponse | Http2ServerResponse

export interface EdgeServer {
  port: number
  /** Stops taking connections, lets calls finish for the grace period, then cuts the rest. */
  stop(): Promise<void>
}

/**
 * One port speaking HTTP/2 and HTTP/1.1 (cleartext-port.ts): gRPC (HTTP/2),
 * gRPC-Web and Connect (either version), CORS, `/healthz` (the process lives), `/readyz` (it can
 * forward: at least one upstream serving; the body says which), and the web page under `/app/`.
 */
export async function startEdgeServer(options: {
  config: EdgeConfig
  routes: (router: ConnectRouter) => void
  readiness: () => { ready: boolean; body: unknown }
}): Promise<EdgeServer> {
  const { config } = options
  const shutdown = new AbortController()
  const cors = corsFor(config.corsOrigins)
  const page = staticFiles(config.webRoot)
  const clientOf = (req: Request) => {
    const forwarded = config.rateLimit.trustForwardedFor ? req.headers['x-forwarded-for'] : undefined
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
    return first || req.socket.remoteAddress || 'unknown'
  }
  const rpc = connectNodeAdapter({
    routes: options.routes,
    readMaxBytes: config.http.maxMessageBytes,
    writeMaxBytes: config.http.maxMessageBytes,
    shutdownSignal: shutdown.signal,
    contextValues: (req) => createContextValues().set(CLIENT_ADDRESS, clientOf(req)),
  })
  const handle = (req: Request, res: Response) => {
    const access = cors(req.method, req.headers)
    for (const [name, value] of Object.entries(access.headers)) res.setHeader(name, value)
    if (access.preflight) return answer(res, access.refused ? 403 : 204, '')
    const path = (req.url ?? '/').split('?')[0]!
    if (req.method === 'GET' && path === '/healthz') return answer(res, shutdown.signal.aborted ? 503 : 200, 'ok\n')
    if (req.method === 'GET' && path === '/readyz') {
      const { ready, body } = options.readiness()
      return answer(res, ready && !shutdown.signal.aborted ? 200 : 503, `${JSON.stringify(body)}\n`, 'application/json')
    }
    if (req.method === 'GET' && (path === '/' || path === '/app')) {
      return answer(res, 302, '', 'text/plain', { location: '/app/' })
    }
    if (req.method === 'GET' && path.startsWith('/app/')) return void page(path, res)
    rpc(req, res)
  }
  const http1 = createHttp1Server(handle)
  const http2 = createHttp2Server(handle)
  const sessions = new Set<Http2Session>()
  http2.on('session', (session: Http2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  const { server, sockets } = cleartextPort(http1, http2)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.http.port, config.http.host, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // GOAWAY: HTTP/2 clients open no new streams here and reconnect elsewhere; idle HTTP/1.1
      // keep-alive connections are closed, busy ones after their response.
      for (const session of sessions) session.close()
      http1.closeIdleConnections()
      let timer: NodeJS.Timeout | undefined
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, config.http.shutdownGraceMs)))
      await Promise.race([closed, grace])
      clearTimeout(timer)
      // Streams left open (watchers) end now: their handlers see the shutdown signal.
      shutdown.abort()
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}
