import { ServerInterceptingCall, status as Code, type ServerInterceptor } from '@grpc/grpc-js'
import type { Meter } from '@opentelemetry/api'
import { authenticationListener } from '../auth/interceptor.ts'
import type { TokenVerifier } from '../auth/verifier.ts'
import type { Logger } from '../logger.ts'

const SERVER_ERRORS = new Set<number>([Code.INTERNAL, Code.UNKNOWN, Code.DATA_LOSS, Code.UNIMPLEMENTED])

/**
 * The one interceptor of every call: authenticates it (runtime/auth), then counts and times it
 * as `<service>_service_requests_total{method,code}` and `<service>_service_duration_seconds`,
 * and logs its outcome once. One layer, not two: it runs on every call, refusals included.
 */
export function interceptCalls(service: string, meter: Meter, log: Logger, verify: TokenVerifier): ServerInterceptor {
  const requests = meter.createCounter(`${service}_service_requests`, {
    description: `gRPC calls handled by the ${service} service, by method and status code`,
  })
  const duration = meter.createHistogram(`${service}_service_duration_seconds`, {
    description: `gRPC call duration in the ${service} service`,
    advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  })
  // One attributes object per (method, code), so the metrics SDK is not handed a new one per call.
  const attributes = new Map<string, { method: string; code: string }>()
  const attributesOf = (method: string, code: string) => {
    const key = `${method} ${code}`
    let a = attributes.get(key)
    if (!a) attributes.set(key, (a = { method, code }))
    return a
  }
  return (descriptor, call) => {
    const method = descriptor.path.slice(descriptor.path.lastIndexOf('/') + 1)
    if (descriptor.path.startsWith('/grpc.reflection.')) return new ServerInterceptingCall(call)
    const started = process.hrtime.bigint()
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start(next) {
        // Refusals go out through this call, so the metrics below count them too.
        next(authenticationListener(descriptor.path, verify, log, (status) => intercepting.sendStatus(status)))
      },
      sendStatus(status, next) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        const code = Code[status.code] ?? String(status.code)
        const labels = attributesOf(method, code)
        requests.add(1, labels)
        duration.record(seconds, labels)
        const ms = Math.round(seconds * 1e4) / 10
        if (SERVER_ERRORS.has(status.code)) log.error({ method, code, ms, details: status.details }, 'call failed')
        else if (status.code !== Code.OK) log.info({ method, code, ms, details: status.details }, 'call refused')
        else if (log.isLevelEnabled('debug')) log.debug({ method, code, ms }, 'call ok')
        next(status)
      },
    })
    return intercepting
  }
}
