import { ConnectError } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from '@brewmesh/gen/es/google/rpc/error_details_pb.js'
import type { FieldViolation } from './errors.ts'

/**
 * The same readers as errors.ts, for a failure through the edge (a ConnectError from the
 * clients of edge.ts): the google.rpc details the service attached travel through the edge
 * unchanged, in Connect's or gRPC-Web's own encoding.
 */

/** The field violations (google.rpc.BadRequest) of an INVALID_ARGUMENT, if any. */
export function edgeFieldViolationsOf(err: unknown): FieldViolation[] {
  return ConnectError.from(err)
    .findDetails(BadRequestSchema)
    .flatMap((d) => d.fieldViolations)
    .map((v) => ({ field: v.field, description: v.description }))
}

/** How long the server asked the caller to wait before retrying (RESOURCE_EXHAUSTED), in ms, if it did. */
export function edgeRetryDelayOf(err: unknown): number | undefined {
  const delay = ConnectError.from(err).findDetails(RetryInfoSchema)[0]?.retryDelay
  return delay ? Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1_000_000) : undefined
}

/** The google.rpc.ErrorInfo reason (e.g. "QUOTE_ISSUE_INSUFFICIENT_POINTS"), if any. */
export function edgeErrorReasonOf(err: unknown): string | undefined {
  return ConnectError.from(err).findDetails(ErrorInfoSchema)[0]?.reason
}
