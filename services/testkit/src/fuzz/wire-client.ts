import { credentials, Metadata, status as Code, type ServiceError } from '@grpc/grpc-js'
import type { DescMethod, DescService } from '@bufbuild/protobuf'
import { createClient, type ClientMethod, type PromiseClient } from '@brewmesh/sdk/client.ts'
import { givesStream, pathOf, takesStream } from './contract.ts'

// The SDK's promise client over a definition whose serializers pass bytes through: what goes on
// the wire is exactly what the fuzzer encoded (also bytes no protobuf library would write).

const passthrough = { requestSerialize: (bytes: Buffer) => bytes, responseDeserialize: (bytes: Buffer) => bytes }
type Kinds<Req extends boolean, Res extends boolean> = { path: string; requestStream: Req; responseStream: Res } & typeof passthrough

/** How a call ended. `OPEN`: a stream still open when the fuzzer closed it (a few messages read, or its time up). */
export interface CallResult {
  code: keyof typeof Code | 'OPEN'
  details: string
  /** Response messages received. */
  responses: number
  ms: number
  /** The caller's deadline passed before the server answered. */
  hung: boolean
}

export interface CallLimits {
  /** The call's gRPC deadline; a unary or client-streaming call that reaches it hung. */
  deadlineMs: number
  /** How long a response stream is read before the fuzzer closes it. */
  streamMs: number
  /**
   * Server streaming: how many response messages are read before the fuzzer closes the stream.
   * Bidirectional streams are read to their end (the server's answers to the requests sent),
   * within the stream's time.
   */
  streamMessages: number
  /** After the first response message: how long the stream may stay quiet before the fuzzer closes it. */
  streamIdleMs: number
}

/** Sends raw request messages to any method of one service. */
export interface WireClient {
  call(method: DescMethod, requests: readonly Uint8Array[], token: string, limits: CallLimits): Promise<CallResult>
  /** A unary call that resolves with the response bytes or rejects with the ServiceError. */
  unary(method: DescMethod, request: Uint8Array, token: string, deadlineMs: number): Promise<Buffer>
  close(): void
}

// grpc-js codes are a numeric TypeScript enum: indexing it with a number gives the name.
const codeName = (code: number) => ((Code as unknown as Record<number, string>)[code] ?? 'UNKNOWN') as keyof typeof Code

export function wireClient(service: DescService, address: string): WireClient {
  const definition = Object.fromEntries(
    service.methods.map((m) => [
      m.name,
      { path: pathOf(m), requestStream: takesStream(m), responseStream: givesStream(m), ...passthrough },
    ]),
  )
  const client = createClient(definition, address, credentials.createInsecure()) as PromiseClient<Record<string, Kinds<boolean, boolean>>>

  const authorization = (token: string) => {
    const metadata = new Metadata()
    metadata.set('authorization', `Bearer ${token}`)
    return metadata
  }

  async function call(method: DescMethod, requests: readonly Uint8Array[], token: string, limits: CallLimits): Promise<CallResult> {
    const metadata = authorization(token)
    const started = Date.now()
    const deadline = started + limits.deadlineMs
    const buffers = requests.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength))
    const invoke = client[method.name] as unknown
    const result = (code: CallResult['code'], details: string, responses = 0): CallResult => ({
      code,
      details,
      responses,
      ms: Date.now() - started,
      hung: code === 'DEADLINE_EXCEEDED' && Date.now() >= deadline,
    })
    const failed = (err: unknown, responses = 0) => {
      const e = err as Partial<ServiceError>
      return result(typeof e.code === 'number' ? codeName(e.code) : 'UNKNOWN', e.details ?? String(err), responses)
    }
    try {
      if (!givesStream(method)) {
        const single = takesStream(method)
          ? (invoke as ClientMethod<Kinds<true, false>>)(buffers, { deadline, metadata })
          : (invoke as ClientMethod<Kinds<false, false>>)(buffers[0] ?? Buffer.alloc(0), { deadline, metadata })
        await single
        return result('OK', '', 1)
      }
      const stop = new AbortController()
      let timer = setTimeout(() => stop.abort(), limits.streamMs)
      const quiet = () => {
        clearTimeout(timer)
        timer = setTimeout(() => stop.abort(), Math.min(limits.streamIdleMs, Math.max(0, started + limits.streamMs - Date.now())))
      }
      const responses = takesStream(method)
        ? (invoke as ClientMethod<Kinds<true, true>>)(buffers, { deadline, metadata, signal: stop.signal })
        : (invoke as ClientMethod<Kinds<false, true>>)(buffers[0] ?? Buffer.alloc(0), { deadline, metadata, signal: stop.signal })
      let received = 0
      try {
        for await (const _ of responses) {
          if (++received >= limits.streamMessages && !takesStream(method)) return result('OPEN', '', received)
          quiet()
        }
        return result('OK', '', received)
      } catch (err) {
        return stop.signal.aborted ? result('OPEN', '', received) : failed(err, received)
      } finally {
        clearTimeout(timer)
      }
    } catch (err) {
      return failed(err)
    }
  }

  const unary = (method: DescMethod, request: Uint8Array, token: string, deadlineMs: number) =>
    (client[method.name] as unknown as ClientMethod<Kinds<false, false>>)(Buffer.from(request), {
      deadline: Date.now() + deadlineMs,
      metadata: authorization(token),
    })

  return { call, unary, close: () => client.close() }
}
