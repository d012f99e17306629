import { Code, ConnectError } from '@connectrpc/connect'
import type { Meter } from '@opentelemetry/api'
import type { Logger } from '@brewmesh/runtime/logger'

/** Codes that mean the edge or a service is broken, not that the caller did something wrong. */
const SERVER_ERRORS = new Set<Code>([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unimplemented])

/** gRPC's spelling of a code (`INVALID_ARGUMENT`), as the services' metrics label it. */
const codeName = (code: Code) => Code[code].replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()

export interface CallRecorder {
  /** Counts, times and logs one finished call (`failure` undefined: OK). */
  (method: string, protocol: string, startedAt: bigint, failure: unknown): void
}

/**
 * The services' call metrics, for the edge: `edge_service_requests_total{method,code,protocol}`
 * and `edge_service_duration_seconds{method,code,protocol}`, so a dashboard reads the edge like
 * any service, plus which protocol (grpc, grpc-web, connect) callers used. Each call is logged
 * once when it did not succeed, as the services do.
 */
export function callRecorder(meter: Meter, log: Logger): CallRecorder {
  const requests = meter.createCounter('edge_service_requests', {
    description: 'calls handled by the edge, by method, status code and protocol',
  })
  const duration = meter.createHistogram('edge_service_duration_seconds', {
    description: 'call duration at the edge, upstream call included',
    advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  })
  const attributes = new Map<string, { method: string; code: string; protocol: string }>()
  return (method, protocol, startedAt, failure) => {
    const code = failure === undefined ? 'OK' : codeName(ConnectError.from(failure).code)
    const key = `${method} ${code} ${protocol}`
    let labels = attributes.get(key)
    if (!labels) attributes.set(key, (labels = { method, code, protocol }))
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9
    requests.add(1, labels)
    duration.record(seconds, labels)
    if (failure === undefined) return
    const error = ConnectError.from(failure)
    const ms = Math.round(seconds * 1e4) / 10
    if (SERVER_ERRORS.has(error.code)) log.error({ method, code, protocol, ms, err: error.cause ?? error }, 'call failed')
    else if (error.code !== Code.ResourceExhausted) log.info({ method, code, protocol, ms, details: error.rawMessage }, 'call refused')
  }
}
