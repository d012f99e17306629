import type { IncomingHttpHeaders } from 'node:http'
import { cors } from '@connectrpc/connect'

/** The response headers a CORS answer adds, and whether the request was a preflight. */
export interface CorsAnswer {
  headers: Record<string, string>
  preflight: boolean
  /** A preflight from an origin that is not allowed: answered 403, nothing more. */
  refused: boolean
}

// Headers a brewmesh call carries besides the protocols' own: the token and the trace context.
const ALLOWED_HEADERS = [...cors.allowedHeaders, 'Authorization', 'Traceparent', 'Tracestate'].join(', ')
const EXPOSED_HEADERS = cors.exposedHeaders.join(', ')

/**
 * CORS for the configured origins only (EDGE_CORS_ORIGINS; `*` allows any, refused in
 * production): a browser page served elsewhere may call the edge with Connect or gRPC-Web,
 * sending its bearer token, and read the status and error details in the response. Requests
 * without an Origin (curl, apps, gRPC clients) are not affected.
 */
export function corsFor(allowedOrigins: readonly string[]) {
  const any = allowedOrigins.includes('*')
  const allowed = new Set(allowedOrigins)
  return (method: string | undefined, headers: IncomingHttpHeaders): CorsAnswer => {
    const origin = headers.origin
    const preflight = method === 'OPTIONS' && headers['access-control-request-method'] !== undefined
    if (!origin || !(any || allowed.has(origin))) return { headers: {}, preflight, refused: preflight }
    const answer: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' }
    if (!preflight) return { headers: { ...answer, 'access-control-expose-headers': EXPOSED_HEADERS }, preflight, refused: false }
    return {
      headers: {
        ...answer,
        'access-control-allow-methods': cors.allowedMethods.join(', '),
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '7200',
      },
      preflight,
      refused: false,
    }
  }
}
