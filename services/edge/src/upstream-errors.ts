import { createRegistry, fromBinary } from '@bufbuild/protobuf'
import { Code, ConnectError } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from '@brewmesh/gen/es/google/rpc/error_details_pb.js'

// The google.rpc details the services attach (runtime/src/grpc/status.ts): decoded here so a
// Connect (JSON) caller sees them in readable form too, under each detail's "debug" key.
const KNOWN_DETAILS = createRegistry(BadRequestSchema, RetryInfoSchema, ErrorInfoSchema)

/**
 * What the edge answers for a failed call: a service's own code, message and details, unchanged,
 * in whichever protocol the caller speaks (the upstream's other trailers, its transport's own,
 * are not handed on); the edge's own refusals as they are; a call cut short (caller gone,
 * deadline) with the code connect gave it.
 */
export function fromUpstream(err: unknown): ConnectError {
  const failure = ConnectError.from(err)
  // Not an answer from anywhere: a bug here. Logged with its cause (call-metrics.ts), answered generically.
  if (failure.code === Code.Unknown && !failure.isWireError)
    return new ConnectError('the edge failed', Code.Internal, undefined, undefined, err)
  const details = failure.details.map((detail) => {
    if ('desc' in detail) return detail
    const desc = KNOWN_DETAILS.getMessage(detail.type)
    return desc ? { desc, value: fromBinary(desc, detail.value) } : detail
  })
  const answer = new ConnectError(failure.rawMessage, failure.code)
  answer.details = details
  return answer
}

/** RESOURCE_EXHAUSTED from the edge's own rate limit, with RetryInfo saying when to try again. */
export function rateLimited(retryAfterMs: number): ConnectError {
  const seconds = Math.floor(retryAfterMs / 1000)
  return new ConnectError('too many calls from this client: retry after the delay in RetryInfo', Code.ResourceExhausted, undefined, [
    { desc: RetryInfoSchema, value: { retryDelay: { seconds: BigInt(seconds), nanos: (retryAfterMs % 1000) * 1_000_000 } } },
  ])
}

export const upstreamUnavailable = (upstream: string) =>
  new ConnectError(`the ${upstream} service is unavailable; other services keep answering`, Code.Unavailable)
