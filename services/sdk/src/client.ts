import {
  Client,
  Metadata,
  type CallOptions as GrpcCallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  type Interceptor,
  type ServiceError,
} from '@grpc/grpc-js'

/** A method of a generated (ts-proto, grpc-js) service definition. */
interface MethodDef {
  path: string
  requestStream: boolean
  responseStream: boolean
  requestSerialize: (value: never) => Buffer
  requestDeserialize?: (bytes: Buffer) => unknown
  responseDeserialize: (bytes: Buffer) => unknown
}

type RequestOf<M> = M extends { requestSerialize: (value: infer R) => Buffer } ? R : never
type ResponseOf<M> = M extends { responseDeserialize: (bytes: Buffer) => infer R } ? R : never
type Requests<T> = AsyncIterable<T> | Iterable<T>

/** Per call: a deadline, extra metadata, and a signal that cancels the call. */
export interface CallOptions {
  deadline?: Date | number
  metadata?: Metadata
  signal?: AbortSignal
}

/** A method as a promise (unary, client streaming) or an async iterable (server streaming, bidirectional). */
export type ClientMethod<M> = M extends { requestStream: false; responseStream: false }
  ? (request: RequestOf<M>, options?: CallOptions) => Promise<ResponseOf<M>>
  : M extends { requestStream: false; responseStream: true }
    ? (request: RequestOf<M>, options?: CallOptions) => AsyncIterable<ResponseOf<M>>
    : M extends { requestStream: true; responseStream: false }
      ? (requests: Requests<RequestOf<M>>, options?: CallOptions) => Promise<ResponseOf<M>>
      : (requests: Requests<RequestOf<M>>, options?: CallOptions) => AsyncIterable<ResponseOf<M>>

/** Every method of a generated service definition, named as the definition names it. */
export type PromiseClient<S> = { [K in keyof S]: ClientMethod<S[K]> } & { close(): void }

export interface ClientOptions {
  /** Sent on every call, e.g. a bearer token interceptor. */
  interceptors?: Interceptor[]
  /** grpc-js channel options (service config, keepalive, message sizes). */
  channel?: ChannelOptions
  /**
   * true: a call that fails UNAVAILABLE before any answer arrived (the replica it reached went
   * away, its connection was reset, the service said "retry later") is sent again, up to 3 attempts
   * in all, 0.1 to 1 s apart, if its method is safe to repeat (repeatableMethods). `{ also }` adds
   * methods, by name, that the contract says are safe to repeat in words (e.g. AdvanceOrder with
   * its expected_status). Merged into the `grpc.service_config` of `channel`, if it has one.
   */
  retry?: boolean | { also: readonly string[] }
}

const READS = /^(Get|List|Quote|Watch)/

/**
 * The methods of a definition that are safe to send again, as their paths: the reads (Get, List,
 * Quote, Watch) and the unary writes whose request carries an idempotency key (request_id), which
 * the services answer once however often it arrives. Never a method with a request stream.
 */
export function repeatableMethods(definition: Record<string, MethodDef>): string[] {
  const carriesRequestId = (m: MethodDef) => {
    const empty = m.requestDeserialize?.(Buffer.alloc(0))
    return typeof empty === 'object' && empty !== null && 'requestId' in empty
  }
  return Object.values(definition)
    .filter((m) => !m.requestStream && (READS.test(m.path.slice(m.path.lastIndexOf('/') + 1)) || carriesRequestId(m)))
    .map((m) => m.path)
}

/** A method's path by its name (AdvanceOrder, or the definition's key advanceOrder). */
function methodPath(definition: Record<string, MethodDef>, name: string): string {
  const method = Object.entries(definition).find(([key, m]) => key === name || m.path.endsWith(`/${name}`))?.[1]
  if (!method) throw new Error(`no method ${name} in this service definition`)
  return method.path
}

/** Channel options that retry UNAVAILABLE for these method paths, merged into `channel`'s service config. */
export function retryingChannel(paths: readonly string[], channel: ChannelOptions = {}): ChannelOptions {
  const given = channel['grpc.service_config']
  const config = (typeof given === 'string' ? JSON.parse(given) : {}) as { methodConfig?: unknown[] }
  const name = paths.map((path) => {
    const [service = '', method = ''] = path.slice(1).split('/')
    return { service, method }
  })
  const retryPolicy = {
    maxAttempts: 3,
    initialBackoff: '0.1s',
    maxBackoff: '1s',
    backoffMultiplier: 2,
    retryableStatusCodes: ['UNAVAILABLE'],
  }
  return {
    ...channel,
    'grpc.enable_retries': 1,
    'grpc.service_config': JSON.stringify({ ...config, methodConfig: [...(config.methodConfig ?? []), { name, retryPolicy }] }),
  }
}

/**
 * A promise client for a generated service definition, e.g.
 * `const customers = createClient(CustomerServiceService, 'localhost:50052', credentials.createInsecure())`,
 * then `await customers.getCustomer({ id })` or `for await (const change of customers.watchCustomer({ id }))`.
 * Failures reject (or throw from the iterator) with the grpc-js ServiceError; errors.ts reads its details.
 */
export function createClient<S extends Record<string, MethodDef>>(
  definition: S,
  address: string,
  credentials: ChannelCredentials,
  options: ClientOptions = {},
): PromiseClient<S> {
  const also = typeof options.retry === 'object' ? options.retry.also : []
  const paths = [...repeatableMethods(definition), ...also.map((name) => methodPath(definition, name))]
  const channel = options.retry ? retryingChannel(paths, options.channel) : options.channel
  const client = new Client(address, credentials, { ...channel, interceptors: options.interceptors ?? [] })
  const methods: Record<string, unknown> = { close: () => client.close() }
  for (const [key, method] of Object.entries(definition)) methods[key] = callerOf(client, method)
  return methods as PromiseClient<S>
}

const grpcOptions = (o: CallOptions): GrpcCallOptions => (o.deadline === undefined ? {} : { deadline: o.deadline })

/** Cancels the call when the signal aborts; returns how to stop listening. */
function cancelOn(signal: AbortSignal | undefined, call: { cancel(): void }): () => void {
  if (!signal) return () => undefined
  if (signal.aborted) call.cancel()
  const cancel = () => call.cancel()
  signal.addEventListener('abort', cancel, { once: true })
  return () => signal.removeEventListener('abort', cancel)
}

function callerOf(client: Client, m: MethodDef) {
  const serialize = m.requestSerialize as (value: unknown) => Buffer
  const deserialize = m.responseDeserialize
  if (!m.requestStream && !m.responseStream) {
    return (request: unknown, o: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        const call = client.makeUnaryRequest(
          m.path,
          serialize,
          deserialize,
          request,
          o.metadata ?? new Metadata(),
          grpcOptions(o),
          (err, res) => {
            stop()
            if (err) reject(err)
            else resolve(res)
          },
        )
        const stop = cancelOn(o.signal, call)
      })
  }
  if (!m.requestStream) {
    return (request: unknown, o: CallOptions = {}) =>
      readAll(
        client.makeServerStreamRequest(m.path, serialize, deserialize, request, o.metadata ?? new Metadata(), grpcOptions(o)),
        o.signal,
      )
  }
  if (!m.responseStream) {
    return (requests: Requests<unknown>, o: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        const call = client.makeClientStreamRequest(
          m.path,
          serialize,
          deserialize,
          o.metadata ?? new Metadata(),
          grpcOptions(o),
          (err, res) => {
            stop()
            if (err) reject(err)
            else resolve(res)
          },
        )
        const stop = cancelOn(o.signal, call)
        void writeAll(call, requests)
      })
  }
  return (requests: Requests<unknown>, o: CallOptions = {}) => {
    const call = client.makeBidiStreamRequest(m.path, serialize, deserialize, o.metadata ?? new Metadata(), grpcOptions(o))
    void writeAll(call, requests)
    return readAll(call, o.signal)
  }
}

/** Writes requests with backpressure, then half-closes; a failing source cancels the call. */
async function writeAll(
  call: ClientWritableStream<unknown> | ClientDuplexStream<unknown, unknown>,
  requests: Requests<unknown>,
): Promise<void> {
  try {
    for await (const request of requests) {
      if (call.destroyed || call.writableEnded) return
      if (!call.write(request)) await new Promise((resolve) => call.once('drain', resolve))
    }
    call.end()
  } catch {
    call.cancel()
  }
}

/** The responses of a stream; leaving the loop early (break, throw) cancels the call. */
async function* readAll<T>(
  call: ClientReadableStream<T> | ClientDuplexStream<unknown, T>,
  signal: AbortSignal | undefined,
): AsyncIterable<T> {
  const stop = cancelOn(signal, call)
  let ended = false
  call.once('end', () => (ended = true))
  call.once('error', () => (ended = true))
  try {
    for await (const message of call as AsyncIterable<T>) yield message
  } catch (err) {
    throw err as ServiceError
  } finally {
    stop()
    if (!ended) call.cancel()
  }
}
