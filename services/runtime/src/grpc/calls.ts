import {
  status as Code,
  type Metadata,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerWritableStream,
} from '@grpc/grpc-js'
import { principalOf } from '../auth/interceptor.ts'
import type { Principal } from '../auth/principal.ts'
import { unauthenticated } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { toServiceError } from './status.ts'

/** What a handler knows about its call, without touching grpc-js. */
export interface CallContext {
  /** Aborted when the caller cancels, the deadline passes, or the server shuts down. */
  signal: AbortSignal
  metadata: Metadata
  log: Logger
  /** The caller's deadline, when it set one: calls made on its behalf should not outlive it. */
  deadline: Date | undefined
}

/** The verified caller (the authentication interceptor ran before any handler). */
export function callerOf(ctx: CallContext): Principal {
  const principal = principalOf(ctx.metadata)
  if (!principal) throw unauthenticated('no verified caller for this call')
  return principal
}

type AnyStream = ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>

/** Open streaming calls, so shutdown can end them with UNAVAILABLE instead of cutting them. */
export class StreamRegistry {
  private readonly open = new Map<AnyStream, AbortController>()
  private closing = false

  add(call: AnyStream, controller: AbortController): boolean {
    if (this.closing) return false
    this.open.set(call, controller)
    return true
  }

  remove(call: AnyStream): void {
    this.open.delete(call)
  }

  get size(): number {
    return this.open.size
  }

  /** Ends every open stream with UNAVAILABLE so clients reconnect elsewhere. */
  closeAll(): void {
    this.closing = true
    for (const [call, controller] of this.open) {
      controller.abort(new Error('server shutting down'))
      call.emit('error', { code: Code.UNAVAILABLE, details: 'server shutting down, reconnect' })
    }
    this.open.clear()
  }
}

type CancellableCall = { metadata: Metadata; on(event: 'cancelled', fn: () => void): unknown; getDeadline(): Date | number }

/**
 * A call's context, built lazily: the AbortController (and its 'cancelled' listener) and the
 * child logger exist only once something asks for them. Unary handlers rarely do, and both are
 * measurable on the hot path; streaming adapters ask for the controller at once (shutdown).
 */
function contextFor(call: CancellableCall, log: Logger, method: string) {
  let controller: AbortController | undefined
  let child: Logger | undefined
  const controllerOf = () => {
    if (!controller) {
      const created = new AbortController()
      call.on('cancelled', () => created.abort(new Error('cancelled by caller or deadline')))
      controller = created
    }
    return controller
  }
  const ctx: CallContext = {
    metadata: call.metadata,
    get log() {
      return (child ??= log.child({ method }))
    },
    get signal() {
      return controllerOf().signal
    },
    get deadline() {
      const d = call.getDeadline()
      const ms = d instanceof Date ? d.getTime() : d
      return Number.isFinite(ms) ? new Date(ms) : undefined
    },
  }
  return { ctx, controllerOf }
}

/** Writes with backpressure; resolves false when the call is gone. */
function writer<Res>(call: ServerWritableStream<unknown, Res> | ServerDuplexStream<unknown, Res>, signal: AbortSignal) {
  return async (message: Res): Promise<boolean> => {
    if (signal.aborted || call.destroyed || call.writableEnded) return false
    if (call.write(message)) return true
    await new Promise<void>((resolve) => {
      const done = () => {
        call.off('drain', done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      call.once('drain', done)
      signal.addEventListener('abort', done, { once: true })
    })
    return !signal.aborted
  }
}

/** Incoming messages as an async iterable that ends when the caller half-closes or goes away. */
/**
 * Incoming messages as an async iterable that ends when the caller half-closes or goes away.
 * Cancellation ends the stream's own iterator (return() destroys it, settling a pending next());
 * racing every next() against one long-lived "aborted" promise would instead keep each message
 * reachable until the call ends, so memory would grow with the number of messages.
 */
async function* readAll<Req>(call: ServerReadableStream<Req, unknown> | ServerDuplexStream<Req, unknown>, signal: AbortSignal) {
  const iterator = call[Symbol.asyncIterator]() as AsyncIterator<Req>
  const stop = () => void iterator.return?.().catch(() => undefined)
  signal.addEventListener('abort', stop, { once: true })
  try {
    while (!signal.aborted) {
      let next: IteratorResult<Req>
      try {
        next = await iterator.next()
      } catch (err) {
        if (signal.aborted) return
        throw err
      }
      if (next.done) return
      yield next.value
    }
  } finally {
    signal.removeEventListener('abort', stop)
  }
}

export type Send<Res> = (message: Res) => Promise<boolean>

/** Runs a handler so that a synchronous throw becomes a rejection like any other failure. */
function settle<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run()
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)))
  }
}

/** Builds grpc-js handlers from promise-returning functions; errors go through toServiceError. */
export function callAdapters(log: Logger, streams: StreamRegistry) {
  const fail = (err: unknown, method: string) => toServiceError(err, log, { method })

  return {
    unary<Req, Res>(method: string, fn: (request: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
      return (call, callback) => {
        settle(() => fn(call.request, contextFor(call, log, method).ctx)).then(
          (response) => callback(null, response),
          (err: unknown) => callback(fail(err, method)),
        )
      }
    },

    serverStream<Req, Res>(
      method: string,
      fn: (request: Req, send: Send<Res>, ctx: CallContext) => Promise<void>,
    ): handleServerStreamingCall<Req, Res> {
      return (call) => {
        const { ctx, controllerOf } = contextFor(call, log, method)
        const controller = controllerOf()
        if (!streams.add(call, controller)) return call.emit('error', { code: Code.UNAVAILABLE, details: 'server shutting down' })
        settle(() => fn(call.request, writer(call, ctx.signal), ctx)).then(
          () => {
            streams.remove(call)
            if (!ctx.signal.aborted) call.end()
          },
          (err: unknown) => {
            streams.remove(call)
            if (!ctx.signal.aborted) call.emit('error', fail(err, method))
          },
        )
      }
    },

    clientStream<Req, Res>(
      method: string,
      fn: (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
    ): handleClientStreamingCall<Req, Res> {
      return (call, callback) => {
        const { ctx, controllerOf } = contextFor(call, log, method)
        const controller = controllerOf()
        if (!streams.add(call, controller)) return callback({ code: Code.UNAVAILABLE, details: 'server shutting down' })
        settle(() => fn(readAll(call, ctx.signal), ctx)).then(
          (response) => {
            streams.remove(call)
            callback(null, response)
          },
          (err: unknown) => {
            streams.remove(call)
            callback(fail(err, method))
          },
        )
      }
    },

    bidi<Req, Res>(
      method: string,
      fn: (requests: AsyncIterable<Req>, send: Send<Res>, ctx: CallContext) => Promise<void>,
    ): handleBidiStreamingCall<Req, Res> {
      return (call) => {
        const { ctx, controllerOf } = contextFor(call, log, method)
        const controller = controllerOf()
        if (!streams.add(call, controller)) return call.emit('error', { code: Code.UNAVAILABLE, details: 'server shutting down' })
        settle(() => fn(readAll(call, ctx.signal), writer(call, ctx.signal), ctx)).then(
          () => {
            streams.remove(call)
            if (!ctx.signal.aborted) call.end()
          },
          (err: unknown) => {
            streams.remove(call)
            if (!ctx.signal.aborted) call.emit('error', fail(err, method))
          },
        )
      }
    },
  }
}

export type CallAdapters = ReturnType<typeof callAdapters>
