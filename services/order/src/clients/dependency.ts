import { status as Code, type ChannelOptions, type ServiceError } from '@grpc/grpc-js'
import type { Outbound } from '@brewmesh/runtime/auth'
import { AppError, resourceExhausted, unavailable } from '@brewmesh/runtime/errors'
import { createClient, retryingChannel, type CallOptions, type PromiseClient } from '@brewmesh/sdk/client.ts'
import { retryDelayOf } from '@brewmesh/sdk/errors.ts'
import type { CallBudget } from '../domain/ports.ts'

// Calling another service: one channel per dependency, its calls bounded by a bulkhead and by the
// caller's deadline, its failures in this service's vocabulary. Nothing here is about orders.

/** What the Order Service calls, one entry per dependency (DNS names give round-robin over replicas). */
export interface Dependency {
  /** gRPC target, e.g. `dns:///customer:50052` (every A record is a subchannel). */
  target: string
  /** Per-call timeout when the caller's own deadline is later or absent. */
  timeoutMs: number
  /** Calls to it in flight at once; past that a call is refused at once (RESOURCE_EXHAUSTED). */
  maxInFlight: number
}

/**
 * Channel options for every outbound client: client-side round-robin over the addresses DNS
 * returns, keepalive so dead connections are noticed between calls, a reconnect backoff capped at
 * one second (a restarted replica is used again within a second of answering), and a retry policy
 * for the methods that are safe to retry (reads, and writes carrying an idempotency key) on
 * UNAVAILABLE. `retryable` are method paths ("/package.Service/Method").
 */
export function channelOptions(retryable: readonly string[]): ChannelOptions {
  return retryingChannel(retryable, {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1000,
  })
}

/** The earlier of the caller's deadline and this dependency's own timeout. */
export const deadlineFor = (budget: CallBudget, timeoutMs: number) =>
  new Date(Math.min(budget.deadline?.getTime() ?? Infinity, Date.now() + timeoutMs))

/** Answers of a dependency that are about the request itself, in this service's vocabulary. */
export type Known = Partial<Record<Code, (err: ServiceError) => AppError>>

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
  if (mapped) return mapped(e)
  if (e?.code === Code.RESOURCE_EXHAUSTED) {
    return resourceExhausted(`the ${name} service is busy; retry with the same request_id`, retryDelayOf(err) ?? 250)
  }
  const what = e?.code === Code.DEADLINE_EXCEEDED ? 'did not answer in time' : e?.code === Code.UNAVAILABLE ? 'is unavailable' : 'failed'
  return unavailable(`the ${name} service ${what}; retry with the same request_id`, err)
}

/** Calls to one dependency through its promise client. */
export interface DependencyCalls {
  /** A call; failures mapped by dependencyError (`known` first). */
  call<T>(invoke: (options: CallOptions) => Promise<T>, budget: CallBudget, known?: Known): Promise<T>
  /** A read whose NOT_FOUND is an answer (undefined), not a failure. */
  find<T>(invoke: (options: CallOptions) => Promise<T>, budget: CallBudget): Promise<T | undefined>
}

/**
 * Calls to one dependency: at most `maxInFlight` at once (a bulkhead: a slow dependency holds
 * only its own share of this service), each bounded by the caller's deadline and the
 * dependency's timeout.
 */
export function dependencyCalls(name: string, dep: Dependency): DependencyCalls {
  let inFlight = 0
  const send = async <T>(invoke: (options: CallOptions) => Promise<T>, budget: CallBudget): Promise<T> => {
    if (inFlight >= dep.maxInFlight) throw resourceExhausted(`too many calls to the ${name} service in progress; retry later`, 250)
    inFlight++
    try {
      return await invoke({ deadline: deadlineFor(budget, dep.timeoutMs) })
    } finally {
      inFlight--
    }
  }
  return {
    call: (invoke, budget, known = {}) =>
      send(invoke, budget).catch((err: unknown) => {
        throw dependencyError(name, err, known)
      }),
    find: (invoke, budget) =>
      send(invoke, budget).catch((err: unknown) => {
        if ((err as ServiceError).code === Code.NOT_FOUND) return undefined
        throw dependencyError(name, err)
      }),
  }
}

/** A generated service definition (ts-proto, grpc-js). */
type Definition = Parameters<typeof createClient>[0]

/**
 * A dependency's promise client on its own channel (the retry policy covers `retryable`, named as
 * the definition names them) and the bounded calls to it.
 */
export function connect<S extends Definition>(
  name: string,
  definition: S,
  dep: Dependency,
  outbound: Outbound,
  retryable: readonly (keyof S & string)[],
): { client: PromiseClient<S>; calls: DependencyCalls } {
  const client = createClient(definition, dep.target, outbound.credentials, {
    interceptors: outbound.interceptors,
    channel: channelOptions(retryable.map((method) => definition[method]!.path)),
  })
  return { client, calls: dependencyCalls(name, dep) }
}
