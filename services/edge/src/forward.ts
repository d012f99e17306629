import type { DescMethod, DescMethodStreaming, DescMethodUnary } from '@bufbuild/protobuf'
import { Code, ConnectError, createContextKey, type ConnectRouter, type HandlerContext } from '@connectrpc/connect'
import type { TokenVerifier } from '@brewmesh/runtime/auth/verifier.ts'
import type { Logger } from '@brewmesh/runtime/logger'
import { contextOf, SpanKind, startSpan, traceparentOf } from '@brewmesh/runtime/telemetry/trace.ts'
import type { CallRecorder } from './call-metrics.ts'
import type { UpstreamName } from './config.ts'
import { PUBLIC_API } from './public-api.ts'
import type { RateLimiter } from './rate-limit.ts'
import { fromUpstream, rateLimited, upstreamUnavailable } from './upstream-errors.ts'
import type { UpstreamHealth } from './upstream-health.ts'
import type { Upstreams } from './upstreams.ts'
import { verifyBearer } from './verify-bearer.ts'

/** The caller's address (the socket's, or X-Forwarded-For behind a trusted proxy), set by the server. */
export const CLIENT_ADDRESS = createContextKey<string>('unknown', { description: 'client address' })

export interface ForwardDeps {
  upstreams: Upstreams
  health: UpstreamHealth
  verify: TokenVerifier
  limiter: RateLimiter
  record: CallRecorder
  /** Deadline of a unary or client-streaming call that comes without one. */
  defaultTimeoutMs: number
  log: Logger
}

type Message = Record<string, unknown>

/**
 * Every method of the public services, forwarded: one implementation for all of them, so the
 * edge never needs changing when a contract gains a method (regenerate gen/ and redeploy). Before
 * a call leaves the edge: the client's rate limit, then the bearer token (verified here so a bad
 * token costs the mesh nothing; it still travels on, and each service authorizes the call
 * itself), then the upstream's health. The caller's deadline, token and trace context go with it.
 */
export function forwardingRoutes(deps: ForwardDeps): (router: ConnectRouter) => void {
  return (router) => {
    for (const { upstream, service } of PUBLIC_API) {
      for (const method of service.methods) router.rpc(method, forwarder(deps, upstream, method) as never)
    }
  }
}

function forwarder(deps: ForwardDeps, upstream: UpstreamName, method: DescMethod) {
  const name = `${method.parent.name}/${method.name}`
  const transport = () => deps.upstreams.get(upstream).transport

  /** Checks the call may go on; returns the headers and deadline to call the upstream with. */
  const admit = async (ctx: HandlerContext, finiteByDefault: boolean) => {
    const client = ctx.values.get(CLIENT_ADDRESS)
    const decision = deps.limiter.take(client)
    if (!decision.allowed) throw rateLimited(decision.retryAfterMs)
    await verifyBearer(ctx.requestHeader.get('authorization'), deps.verify)
    if (!deps.health.serving(upstream)) throw upstreamUnavailable(upstream)
    const incoming = ctx.requestHeader.get('traceparent') ?? undefined
    const span = startSpan(`edge ${name}`, SpanKind.SERVER, contextOf(incoming), { 'rpc.system': 'grpc', 'rpc.method': name })
    const header = new Headers({ authorization: ctx.requestHeader.get('authorization')!, 'x-forwarded-for': client })
    // Tracing on: the upstream's span is a child of the edge's; off: the caller's context passes through.
    const traceparent = traceparentOf(span) ?? incoming
    if (traceparent) header.set('traceparent', traceparent)
    const tracestate = ctx.requestHeader.get('tracestate')
    if (tracestate) header.set('tracestate', tracestate)
    const timeoutMs = ctx.timeoutMs() ?? (finiteByDefault ? deps.defaultTimeoutMs : undefined)
    return { header, timeoutMs, span }
  }

  const startedAt = () => process.hrtime.bigint()

  switch (method.methodKind) {
    case 'unary':
      return async (request: Message, ctx: HandlerContext) => {
        const started = startedAt()
        let failure: unknown
        let span: ReturnType<typeof startSpan> | undefined
        try {
          const call = await admit(ctx, true)
          span = call.span
          const answer = await transport().unary(method as DescMethodUnary, ctx.signal, call.timeoutMs, call.header, request)
          return answer.message
        } catch (err) {
          throw (failure = fromUpstream(err))
        } finally {
          span?.end()
          deps.record(name, ctx.protocolName, started, failure)
        }
      }
    case 'server_streaming':
      return async function* (request: Message, ctx: HandlerContext) {
        yield* relay(ctx, () => [request], false)
      }
    case 'client_streaming':
      return async (requests: AsyncIterable<Message>, ctx: HandlerContext) => {
        for await (const answer of relay(ctx, () => requests, true)) return answer
        throw new ConnectError('the service closed the stream without an answer', Code.Internal)
      }
    case 'bidi_streaming':
      return async function* (requests: AsyncIterable<Message>, ctx: HandlerContext) {
        yield* relay(ctx, () => requests, false)
      }
  }

  /** A streaming call: requests go up as they come, answers come back as they arrive. */
  async function* relay(ctx: HandlerContext, requests: () => AsyncIterable<Message> | Iterable<Message>, finite: boolean) {
    const started = startedAt()
    let failure: unknown
    let span: ReturnType<typeof startSpan> | undefined
    try {
      const call = await admit(ctx, finite)
      span = call.span
      const answer = await transport().stream(method as DescMethodStreaming, ctx.signal, call.timeoutMs, call.header, toAsync(requests()))
      for await (const message of answer.message) yield message as Message
    } catch (err) {
      throw (failure = fromUpstream(err))
    } finally {
      span?.end()
      deps.record(name, ctx.protocolName, started, failure)
    }
  }
}

async function* toAsync<T>(items: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  yield* items
}
