import {
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as Code,
  type Metadata,
  type ServerInterceptor,
  type StatusObject,
} from '@grpc/grpc-js'
import type { Meter } from '@opentelemetry/api'
import { authenticate, isPublicMethod } from '../auth/interceptor.ts'
import type { TokenVerifier } from '../auth/verifier.ts'
import { resourceExhausted } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { Admission, Admitted, Release } from './admission.ts'
import { toServiceError } from './status.ts'

const SERVER_ERRORS = new Set<number>([Code.INTERNAL, Code.UNKNOWN, Code.DATA_LOSS, Code.UNIMPLEMENTED])

const deadlineMsOf = (deadline: Date | number) => (deadline instanceof Date ? deadline.getTime() : deadline)

/**
 * The one interceptor of every call. In order: admission (a slot, or RESOURCE_EXHAUSTED at once,
 * grpc/admission.ts), authentication (runtime/auth), then the handler; on the way out it counts
 * and times the call as `<service>_service_requests_total{method,code}` and
 * `<service>_service_duration_seconds`, and logs its outcome once. Health and reflection skip
 * admission and authentication: probes must answer however busy the service is.
 */
export function interceptCalls(service: string, meter: Meter, log: Logger, verify: TokenVerifier, admission: Admission): ServerInterceptor {
  const requests = meter.createCounter(`${service}_service_requests`, {
    description: `gRPC calls handled by the ${service} service, by method and status code`,
  })
  const duration = meter.createHistogram(`${service}_service_duration_seconds`, {
    description: `gRPC call duration in the ${service} service`,
    advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10] },
  })
  meter
    .createObservableGauge(`${service}_service_in_flight`, {
      description:
        'calls being handled (kind=call), waiting for a slot (queued), open streams (stream), and the adaptive limit on calls (limit)',
    })
    .addCallback((result) => {
      result.observe(admission.calls.inFlight, { kind: 'call' })
      result.observe(admission.calls.currentLimit, { kind: 'limit' })
      result.observe(admission.calls.queued, { kind: 'queued' })
      result.observe(admission.streams.inFlight, { kind: 'stream' })
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
    const guarded = !isPublicMethod(descriptor.path)
    const started = process.hrtime.bigint()
    let release: Release | undefined
    let ended = false
    const end = () => {
      ended = true
      release?.()
    }
    // Refusals go out through this call, so the metrics below count them too.
    const refuse = (status: Partial<StatusObject>) => intercepting.sendStatus(status as StatusObject)
    const receiveMetadata = (metadata: Metadata, pass: (metadata: Metadata) => void) => {
      if (!guarded) return pass(metadata)
      const admitted = admission.admit(descriptor.responseStream, deadlineMsOf(call.getDeadline()))
      const proceed = (a: Admitted) => {
        if ('refused' in a)
          return refuse(toServiceError(resourceExhausted(`busy: ${a.refused}`, admission.retryDelayMs()), log, { method }))
        // The caller went away while this call waited for its slot.
        if (ended) return a.release()
        release = a.release
        authenticate(metadata, verify, log, pass, refuse)
      }
      if (admitted instanceof Promise) void admitted.then(proceed)
      else proceed(admitted)
    }
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start(next) {
        next(new ServerListenerBuilder().withOnReceiveMetadata(receiveMetadata).withOnCancel(end).build())
      },
      sendStatus(status, next) {
        end()
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        const code = Code[status.code] ?? String(status.code)
        const labels = attributesOf(method, code)
        requests.add(1, labels)
        duration.record(seconds, labels)
        const ms = Math.round(seconds * 1e4) / 10
        if (SERVER_ERRORS.has(status.code)) log.error({ method, code, ms, details: status.details }, 'call failed')
        // Shedding is counted, not logged one line per call: under overload that would be the load.
        else if (status.code === Code.RESOURCE_EXHAUSTED) log.debug({ method, code, ms, details: status.details }, 'call refused')
        else if (status.code !== Code.OK) log.info({ method, code, ms, details: status.details }, 'call refused')
        else if (log.isLevelEnabled('debug')) log.debug({ method, code, ms }, 'call ok')
        next(status)
      },
    })
    return intercepting
  }
}
