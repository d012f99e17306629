import type { Metadata } from '@grpc/grpc-js'
import type { Any } from '@brewmesh/gen/google/protobuf/any.ts'
import { BadRequest, ErrorInfo, RetryInfo } from '@brewmesh/gen/google/rpc/error_details.ts'
import { Status } from '@brewmesh/gen/google/rpc/status.ts'

/**
 * Reading what a brewmesh service attached to a failed call (google.rpc.Status in the
 * `grpc-status-details-bin` trailer): field violations, how long to wait before retrying, and
 * the machine-readable reason of a FAILED_PRECONDITION or ABORTED.
 */

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin'
export const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest'
export const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo'
export const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo'

export interface FieldViolation {
  field: string
  description: string
}

/** The google.rpc.Status details a server attached to an error (none when absent). */
function detailsOf(err: unknown): Any[] {
  const raw = (err as { metadata?: Metadata } | undefined)?.metadata?.get(STATUS_DETAILS_KEY)[0]
  return !raw || typeof raw === 'string' ? [] : Status.decode(raw).details
}

/** How long the server asked the caller to wait before retrying (RESOURCE_EXHAUSTED), if it did. */
export function retryDelayOf(err: unknown): number | undefined {
  const info = detailsOf(err).find((d) => d.typeUrl === RETRY_INFO_TYPE)
  const delay = info && RetryInfo.decode(info.value).retryDelay
  return delay ? Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1_000_000) : undefined
}

/** The google.rpc.ErrorInfo reason the server attached (e.g. "QUOTE_ISSUE_INSUFFICIENT_POINTS"), if any. */
export function errorReasonOf(err: unknown): string | undefined {
  const info = detailsOf(err).find((d) => d.typeUrl === ERROR_INFO_TYPE)
  return info && ErrorInfo.decode(info.value).reason
}

/** The field violations (google.rpc.BadRequest) of an INVALID_ARGUMENT, if any. */
export function fieldViolationsOf(err: unknown): FieldViolation[] {
  return detailsOf(err)
    .filter((d) => d.typeUrl === BAD_REQUEST_TYPE)
    .flatMap((d) => BadRequest.decode(d.value).fieldViolations)
    .map((v) => ({ field: v.field, description: v.description }))
}
