import { Metadata, status as Code, type ChannelOptions, type ServiceError } from '@grpc/grpc-js'
import { type AppError, unavailable } from '@brewmesh/runtime/errors.ts'
import type { CallBudget } from '../domain/ports.ts'

/** What the Order Service calls, one entry per dependency (DNS names give round-robin over replicas). */
export interface Dependency {
  /** gRPC target, e.g. `dns:///customer:50052` (every A record is a subchannel). */
  target: string
  /** Per-call timeout when the caller's own deadline is later or absent. */
  timeoutMs: number
}

/**
 * Channel options for every outbound client: client-side round-robin over the addresses DNS
 * returns, keepalive so dead connections are noticed between calls, and a retry policy for the
 * methods that are safe to retry (reads, and writes carrying an idempotency key) on UNAVAILABLE.
 */
export function channelOptions(service: string, retryable: readonly string[]): ChannelOptions {
  return {
    'grpc.service_config': JSON.stringify({
      loadBalancingConfig: [{ round_robin: {} }],
      methodConfig: [
        {
          name: retryable.map((method) => ({ service, method })),
          retryPolicy: {
            maxAttempts: 3,
            initialBackoff: '0.1s',
            maxBackoff: '1s',
            backoffMultiplier: 2,
            retryableStatusCodes: ['UNAVAILABLE'],
          },
        },
      ],
    }),
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.enable_retries': 1,
  }
}

/** The earlier of the caller's deadline and this dependency's own timeout. */
export const deadlineFor = (budget: CallBudget, timeoutMs: number) =>
  new Date(Math.min(budget.deadline?.getTime() ?? Infinity, Date.now() + timeoutMs))

type Callback<Res> = (err: ServiceError | null, response?: Res) => void

/** Runs a callback-style generated client call with a deadline, as a promise. */
export function call<Res>(
  invoke: (metadata: Metadata, options: { deadline: Date }, callback: Callback<Res>) => unknown,
  deadline: Date,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke(new Metadata(), { deadline }, (err, response) => (err ? reject(err) : resolve(response as Res)))
  })
}

/**
 * A dependency's failure in this service's vocabulary: it being down, slow or refusing our identity
 * is UNAVAILABLE for our caller (safe to retry with the same request id); `known` maps the answers
 * that are about the request itself.
 */
export function dependencyError(name: string, err: unknown, known: Partial<Record<Code, (details: string) => AppError>> = {}): AppError {
  const e = err as ServiceError
  const mapped = typeof e?.code === 'number' ? known[e.code] : undefined
  if (mapped) return mapped(e.details)
  const what =
    e?.code === Code.DEADLINE_EXCEEDED
      ? 'did not answer in time'
      : e?.code === Code.UNAVAILABLE
        ? 'is unavailable'
        : `failed (${e?.details ?? String(err)})`
  return unavailable(`the ${name} service ${what}; retry with the same request_id`, err)
}
