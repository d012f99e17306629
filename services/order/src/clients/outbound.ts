import { Metadata, status as Code, type ChannelOptions, type ServiceError } from '@grpc/grpc-js'
import { AppError, resourceExhausted, unavailable } from '@brewmesh/runtime/errors.ts'
import { Gate, type Release } from '@brewmesh/runtime/grpc/admission.ts'
import { retryDelayOf } from '@brewmesh/runtime/grpc/status.ts'
import type { CallBudget } from '../domain/ports.ts'

/** What the Order Service calls, one entry per dependency (DNS names give round-robin over replicas). */
export interface Dependency {
  /** gRPC target, e.g. `dns:///customer:50052` (every A record is a subchannel). */
  target: string
  /** Per-call timeout when the caller's own deadline is later or absent. */
  timeoutMs: number
  /** Calls to it in flight at once; past that a placement is refused at once (RESOURCE_EXHAUSTED). */
  maxInFlight: number
}

/**
 * Channel options for every outbound client: client-side round-robin over the addresses DNS
 * returns, keepalive so dead connections are noticed between calls, a reconnect backoff capped at
 * one second (a restarted replica is used again within a second of answering), and a retry policy
 * for the methods that are safe to retry (reads, and writes carrying an idempotency key) on
 * UNAVAILABLE.
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
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1000,
  }
}

/** The earlier of the caller's deadline and this dependency's own timeout. */
export const deadlineFor = (budget: CallBudget, timeoutMs: number) =>
  new Date(Math.min(budget.deadline?.getTime() ?? Infinity, Date.now() + timeoutMs))

type Callback<Res> = (err: ServiceError | null, response?: Res) => void
type Invoke<Res> = (metadata: Metadata, options: { deadline: Date }, callback: Callback<Res>) => unknown
type Known = Partial<Record<Code, (details: string) => AppError>>

/**
 * A dependency's failure in this service's vocabulary: it being down, slow or refusing our identity
 * is UNAVAILABLE for our caller (safe to retry with the same request id), it being overloaded is
 * RESOURCE_EXHAUSTED with its RetryInfo passed on; `known` maps the answers that are about the
 * request itself.
 */
export function dependencyError(name: string, err: unknown, known: Known = {}): AppError {
  if (err instanceof AppError) return err // ours already (the bulkhead)
  const e = err as ServiceError
  const mapped = typeof e?.code === 'number' ? known[e.code] : undefined
  if (mapped) return mapped(e.details)
  if (e?.code === Code.RESOURCE_EXHAUSTED) {
    return resourceExhausted(`the ${name} service is busy; retry with the same request_id`, retryDelayOf(err) ?? 250)
  }
  const what =
    e?.code === Code.DEADLINE_EXCEEDED
      ? 'did not answer in time'
      : e?.code === Code.UNAVAILABLE
        ? 'is unavailable'
        : `failed (${e?.details ?? String(err)})`
  return unavailable(`the ${name} service ${what}; retry with the same request_id`, err)
}

/**
 * Calls to one dependency: at most `maxInFlight` at once (a bulkhead: a slow dependency holds
 * only its own share of this service), each bounded by the caller's deadline and the
 * dependency's timeout, failures mapped by dependencyError. `find` is a read whose NOT_FOUND is
 * an answer (undefined), not a failure.
 */
export function outboundCalls(name: string, dep: Dependency) {
  const gate = new Gate(dep.maxInFlight, 0)
  const send = <Res>(invoke: Invoke<Res>, budget: CallBudget): Promise<Res> => {
    const release = gate.enter(0) as Release | undefined
    if (!release) return Promise.reject(resourceExhausted(`too many calls to the ${name} service in progress; retry later`, 250))
    return new Promise<Res>((resolve, reject) => {
      invoke(new Metadata(), { deadline: deadlineFor(budget, dep.timeoutMs) }, (err, response) => {
        release()
        if (err) reject(err)
        else resolve(response as Res)
      })
    })
  }
  return {
    call: <Res>(invoke: Invoke<Res>, budget: CallBudget, known: Known = {}): Promise<Res> =>
      send(invoke, budget).catch((err: unknown) => {
        throw dependencyError(name, err, known)
      }),
    find: <Res>(invoke: Invoke<Res>, budget: CallBudget): Promise<Res | undefined> =>
      send(invoke, budget).catch((err: unknown) => {
        if ((err as ServiceError).code === Code.NOT_FOUND) return undefined
        throw dependencyError(name, err)
      }),
  }
}
