import {
  status as Code,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import { authorize, type Rule, type Target } from '../auth/access.ts'
import { principalOf } from '../auth/interceptor.ts'
import type { Principal } from '../auth/principal.ts'
import { invalid, permissionDenied, unauthenticated, type FieldViolation } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { RateLimiter } from '../rate-limit.ts'
import { CallEnd } from './call-end.ts'
import type { StreamRegistry } from './stream-registry.ts'
import { decodeStrictly, requestTypeOf, violationsOf } from './contract.ts'
import { toServiceError } from './status.ts'
import { writeAll } from './stream-writer.ts'

/** A method of a generated (ts-proto, grpc-js) service definition. */
interface MethodDef {
  path: string
  requestStream: boolean
  responseStream: boolean
  requestDeserialize: (bytes: Buffer) => unknown
  responseSerialize: (value: never) => Buffer
}

type RequestOf<M> = M extends { requestDeserialize: (bytes: Buffer) => infer R } ? R : never
type ResponseOf<M> = M extends { responseSerialize: (value: infer R) => Buffer } ? R : never

/** What a handler knows about its call, without touching grpc-js. */
export interface Call {
  /** The verified caller (authentication ran before any handler). */
  caller: Principal
  /** Checks the route's rule against what the request is about (for routes with `about: 'handler'`). */
  authorize(target: Target): void
  /** Aborted when the caller cancels, the deadline passes, or the server shuts down. */
  signal: AbortSignal
  /** The caller's deadline, when it set one: calls made on its behalf should not outlive it. */
  deadline: Date | undefined
  log: Logger
}

/** A handler per call kind: unary and client streams answer once, server and bidi streams yield. */
export type Handler<M> = M extends { requestStream: false; responseStream: false }
  ? (request: RequestOf<M>, call: Call) => Promise<ResponseOf<M>>
  : M extends { requestStream: false; responseStream: true }
    ? (request: RequestOf<M>, call: Call) => AsyncIterable<ResponseOf<M>>
    : M extends { requestStream: true; responseStream: false }
      ? (requests: AsyncIterable<RequestOf<M>>, call: Call) => Promise<ResponseOf<M>>
      : (requests: AsyncIterable<RequestOf<M>>, call: Call) => AsyncIterable<ResponseOf<M>>

/** One RPC: who may call it, whether it is a write, and the handler. */
export interface Route<M> {
  /** The rule of the service's access table (runtime/auth/access.ts). */
  access: Rule
  /**
   * What the request is about, for the rule's self/household parts: checked before the handler.
   * 'handler' when only the handler can tell (it loads the record first): it must call
   * call.authorize; staff and service callers are checked before the handler either way.
   */
  about: M extends { requestStream: false } ? ((request: RequestOf<M>) => Target) | 'handler' | 'nobody' : 'handler' | 'nobody'
  /** A write: counts against the caller's rate limit (after authorization). */
  write?: boolean
  /**
   * Streamed request messages that break the contract's limits: 'fail' (the default) ends the call
   * with INVALID_ARGUMENT; 'deliver' hands them to the handler, which reports each one
   * (messageViolations) and goes on with the rest, as an import does with a bad row.
   */
  invalidMessages?: 'fail' | 'deliver'
  handle: Handler<M>
}

const delivered = new WeakMap<object, FieldViolation[]>()

/** The contract violations of a streamed message a route takes with invalidMessages 'deliver' (none: []). */
export const messageViolations = (message: object): FieldViolation[] => delivered.get(message) ?? []

/** The route table of a generated service: one route per method, named as the definition names it. */
export type Routes<S> = { [K in keyof S]: Route<S[K]> }

type AnyCall =
  | ServerWritableStream<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>
  | Parameters<handleUnaryCall<unknown, unknown>>[0]

export interface RouteContext {
  log: Logger
  streams: StreamRegistry
  limitWrites: RateLimiter
  /**
   * Told of a request whose bytes are not a message of its type at all. grpc-js then answers
   * INTERNAL before any interceptor or handler runs (the gRPC status-code spec allows it for
   * unparseable requests); this is where it gets counted and logged.
   */
  unparseable?: (rpc: string, err: unknown) => void
}

const rpcName = (path: string) => path.slice(path.lastIndexOf('/') + 1)

/**
 * Turns a route table into what grpc-js serves: requests decoded with strict UTF-8 and checked
 * against the contract's limits (grpc/contract.ts), then authorization (and the write limit), then
 * the handler; async iterables are written with backpressure and closed when the caller goes away;
 * errors are mapped once (grpc/status.ts).
 */
export function implement<S extends Record<string, MethodDef>>(
  definition: S,
  routes: Routes<S>,
  context: RouteContext,
): { definition: S; implementation: UntypedServiceImplementation } {
  const strict = {} as Record<string, MethodDef>
  const implementation: UntypedServiceImplementation = {}
  for (const key of Object.keys(definition) as (keyof S & string)[]) {
    const method = definition[key]!
    strict[key] = { ...method, requestDeserialize: (bytes) => decode(method, bytes, context) }
    const route = routes[key] as unknown as AnyRoute | undefined
    // A method without a route stays unimplemented (grpc-js answers UNIMPLEMENTED).
    if (route) implementation[key] = adapt(method, route, context)
  }
  return { definition: strict as S, implementation }
}

function decode(method: MethodDef, bytes: Buffer, context: RouteContext): unknown {
  try {
    return decodeStrictly(method.requestDeserialize, bytes)
  } catch (err) {
    context.unparseable?.(rpcName(method.path), err)
    throw err
  }
}

type AnyRoute = {
  access: Rule
  about: ((request: unknown) => Target) | 'handler' | 'nobody'
  write?: boolean
  invalidMessages?: 'fail' | 'deliver'
  handle: (input: unknown, call: Call) => Promise<unknown> | AsyncIterable<unknown>
}

function adapt(method: MethodDef, route: AnyRoute, { log, streams, limitWrites }: RouteContext) {
  const rpc = rpcName(method.path)
  const fail = (err: unknown) => toServiceError(err, log, { method: rpc })
  const requestType = requestTypeOf(method.path)
  const checked = (request: unknown) => {
    const violations = violationsOf(requestType, request)
    if (violations.length > 0) throw invalid(violations)
    return request
  }
  /** Streamed messages, each checked: a bad one fails the call, or travels with its violations. */
  async function* checkedAll(messages: AsyncIterable<unknown>) {
    for await (const message of messages) {
      const violations = violationsOf(requestType, message)
      if (violations.length > 0) {
        if (route.invalidMessages !== 'deliver') throw invalid(violations, 'a streamed message breaks the contract')
        delivered.set(message as object, violations)
      }
      yield message
    }
  }

  const methodOfCall: MethodOfCall = { rpc, access: route.access, log }
  /** The call's context and the checks before the handler (authorization, the write limit). */
  const open = (raw: AnyCall, end: CallEnd | undefined, request?: unknown) => {
    const caller = principalOf(raw.metadata)
    if (!caller) throw unauthenticated('no verified caller for this call')
    const call = new RouteCall(caller, raw, methodOfCall, end)
    // Staff and services are judged by role alone; a customer needs the request's target.
    if (typeof route.about === 'function') call.authorize(route.about(request))
    else if (caller.kind !== 'customer' || route.about === 'nobody') call.authorize({})
    return call
  }
  const admitted = async (call: RouteCall) => {
    if (route.write) await limitWrites(call.caller)
    return call
  }

  if (!method.requestStream && !method.responseStream) {
    const unary: handleUnaryCall<unknown, unknown> = (raw, callback) => {
      settle(async () => {
        const call = await admitted(open(raw, undefined, checked(raw.request)))
        const response = await (route.handle(raw.request, call) as Promise<unknown>)
        call.answering()
        return response
      }).then(
        (response) => callback(null, response),
        (err: unknown) => callback(fail(err)),
      )
    }
    return unary
  }

  /**
   * Registers a streaming call, so that shutdown can end it, and runs it; `run` calls `untrack`
   * once the call is over. While the server shuts down the call is refused instead.
   */
  const tracked = <
    T extends ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  >(
    raw: T,
    run: (end: CallEnd, untrack: () => void) => void,
    refuse: () => void,
  ) => {
    const end = new CallEnd()
    raw.on('cancelled', () => end.end(new Error('cancelled by caller or deadline')))
    if (!streams.add(raw, end)) return refuse()
    run(end, () => streams.remove(raw))
  }
  const shuttingDown = (raw: NodeJS.EventEmitter) => () => raw.emit('error', { code: Code.UNAVAILABLE, details: 'server shutting down' })
  /**
   * A stream the server writes: the handler's messages once the call is admitted, then the end,
   * or the failure as a status. Callbacks rather than an async function or a chain of promises,
   * as in writeAll: an open stream would otherwise keep them pending for as long as it lasts.
   */
  const respond = (
    raw: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
    end: CallEnd,
    untrack: () => void,
    admittedCall: Promise<RouteCall>,
    messages: (call: RouteCall) => AsyncIterable<unknown>,
  ): void => {
    const finish = (err?: unknown) => {
      untrack()
      if (end.ended) return
      if (err === undefined) raw.end()
      else raw.emit('error', fail(err))
    }
    admittedCall.then(
      (call) =>
        writeAll(
          raw,
          () => messages(call),
          end,
          () => call.answering(),
          finish,
        ),
      (err: unknown) => finish(err ?? new Error('the call was not admitted')),
    )
  }

  if (!method.requestStream) {
    const serverStream: handleServerStreamingCall<unknown, unknown> = (raw) =>
      tracked(
        raw,
        (end, untrack) =>
          respond(
            raw,
            end,
            untrack,
            settle(() => admitted(open(raw, end, checked(raw.request)))),
            (call) => route.handle(raw.request, call) as AsyncIterable<unknown>,
          ),
        shuttingDown(raw),
      )
    return serverStream
  }

  if (!method.responseStream) {
    const clientStream: handleClientStreamingCall<unknown, unknown> = (raw, callback) =>
      tracked(
        raw,
        (end, untrack) =>
          void (async () => {
            try {
              const call = await admitted(open(raw, end))
              const response = await (route.handle(checkedAll(readAll(raw, end)), call) as Promise<unknown>)
              call.answering()
              callback(null, response)
            } catch (err) {
              callback(fail(err))
            }
          })().finally(untrack),
        () => callback({ code: Code.UNAVAILABLE, details: 'server shutting down' }),
      )
    return clientStream
  }

  const bidi: handleBidiStreamingCall<unknown, unknown> = (raw) =>
    tracked(
      raw,
      (end, untrack) =>
        respond(
          raw,
          end,
          untrack,
          settle(() => admitted(open(raw, end))),
          (call) => route.handle(checkedAll(readAll(raw, end)), call) as AsyncIterable<unknown>,
        ),
      shuttingDown(raw),
    )
  return bidi
}

/** What a call's context needs of its method: shared by every call of it. */
interface MethodOfCall {
  rpc: string
  access: Rule
  log: Logger
}

/**
 * A call's context, as its handler sees it. A class rather than an object of closures: an open
 * stream keeps its context for as long as it lasts, and 10,000 of them held five closures and
 * their scope each (about 0.5 KiB a stream, bench/README.md watch-streams).
 */
class RouteCall implements Call {
  readonly caller: Principal
  private readonly raw: AnyCall
  private readonly method: MethodOfCall
  /** A streaming call's end; unary calls have none (their signal is made from the call if asked). */
  private readonly end: CallEnd | undefined
  private authorized = false
  private child: Logger | undefined
  private cancelled: AbortSignal | undefined

  constructor(caller: Principal, raw: AnyCall, method: MethodOfCall, end: CallEnd | undefined) {
    this.caller = caller
    this.raw = raw
    this.method = method
    this.end = end
  }

  authorize(target: Target): void {
    authorize(this.caller, this.method.access, target, this.method.rpc)
    this.authorized = true
  }

  get signal(): AbortSignal {
    // Few handlers ask; a controller and its listener are measurable on the hot path, and held by
    // every open stream.
    return (this.cancelled ??= this.end?.signal ?? cancelSignal(this.raw))
  }

  get deadline(): Date | undefined {
    const d = this.raw.getDeadline()
    const ms = d instanceof Date ? d.getTime() : d
    return Number.isFinite(ms) ? new Date(ms) : undefined
  }

  get log(): Logger {
    return (this.child ??= this.method.log.child({ method: this.method.rpc }))
  }

  /** Fails closed when a handler answers a call it never authorized (a bug, not the caller's fault). */
  answering(): void {
    if (this.authorized) return
    this.method.log.error({ method: this.method.rpc }, 'a handler answered without authorizing the call; refused')
    throw permissionDenied(`${this.caller.kind} ${this.caller.subject} may not make ${this.method.rpc}`)
  }
}

/** An AbortSignal that fires when a unary call is cancelled (built only when a handler asks). */
function cancelSignal(raw: AnyCall): AbortSignal {
  const controller = new AbortController()
  ;(raw as { on(event: 'cancelled', listener: () => void): unknown }).on('cancelled', () =>
    controller.abort(new Error('cancelled by caller or deadline')),
  )
  return controller.signal
}

/** Runs a handler so that a synchronous throw becomes a rejection like any other failure. */
function settle<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run()
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)))
  }
}

/**
 * Incoming messages as an async iterable that ends when the caller half-closes or goes away.
 * Cancellation ends the stream's own iterator (return() destroys it, settling a pending next());
 * racing every next() against one long-lived "aborted" promise would instead keep each message
 * reachable until the call ends, so memory would grow with the number of messages.
 */
async function* readAll<Req>(raw: ServerReadableStream<Req, unknown> | ServerDuplexStream<Req, unknown>, end: CallEnd) {
  const iterator = raw[Symbol.asyncIterator]() as AsyncIterator<Req>
  const stop = () => void iterator.return?.().catch(() => undefined)
  end.onEnd(stop)
  try {
    while (!end.ended) {
      let next: IteratorResult<Req>
      try {
        next = await iterator.next()
      } catch (err) {
        if (end.ended) return
        throw err
      }
      if (next.done) return
      yield next.value
    }
  } finally {
    end.off(stop)
  }
}
