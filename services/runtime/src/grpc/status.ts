import { Metadata, status as Code, type ServiceError } from '@grpc/grpc-js'
import type { Any } from '@brewmesh/gen/google/protobuf/any.ts'
import { BAD_REQUEST_TYPE, ERROR_INFO_TYPE, RETRY_INFO_TYPE, STATUS_DETAILS_KEY } from '@brewmesh/sdk/errors.ts'
import { BadRequest, ErrorInfo, RetryInfo } from '@brewmesh/gen/google/rpc/error_details.ts'
import { Status } from '@brewmesh/gen/google/rpc/status.ts'
import { AppError, type ErrorKind, type FieldViolation } from '../errors.ts'
import type { Logger } from '../logger.ts'

const codeOf: Record<ErrorKind, Code> = {
  invalid: Code.INVALID_ARGUMENT,
  not_found: Code.NOT_FOUND,
  already_exists: Code.ALREADY_EXISTS,
  aborted: Code.ABORTED,
  precondition: Code.FAILED_PRECONDITION,
  unavailable: Code.UNAVAILABLE,
  resource_exhausted: Code.RESOURCE_EXHAUSTED,
  unauthenticated: Code.UNAUTHENTICATED,
  permission_denied: Code.PERMISSION_DENIED,
}

// PostgreSQL SQLSTATEs and socket errors that mean "try again later", not "you did something wrong".
const PG_UNAVAILABLE = /^(08|53|57P0)/
const SOCKET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'])
const PG_RETRYABLE = new Set(['40001', '40P01'])
/** The ErrorInfo reason of an ABORTED that a serialization failure or a deadlock caused: retry the call as it was. */
export const CONCURRENT_MODIFICATION = 'CONCURRENT_MODIFICATION'

/** Recognizes infrastructure failures worth an UNAVAILABLE or ABORTED instead of INTERNAL. */
export function classify(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err
  if (!(err instanceof Error)) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') {
    if (PG_RETRYABLE.has(code))
      return new AppError('aborted', 'concurrent modification, retry', [], { cause: err, reason: CONCURRENT_MODIFICATION })
    if (PG_UNAVAILABLE.test(code) || SOCKET_UNAVAILABLE.has(code)) {
      return new AppError('unavailable', 'a dependency is unavailable, retry later', [], { cause: err })
    }
  }
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(err.message)) {
    return new AppError('unavailable', 'the database is unavailable, retry later', [], { cause: err })
  }
  return undefined
}

/** The one mapping from any thrown value to a gRPC status with rich details. */
export function toServiceError(err: unknown, log: Logger, context: Record<string, unknown>): Partial<ServiceError> {
  const known = classify(err)
  if (!known) {
    log.error({ err, ...context }, 'unexpected error')
    return { code: Code.INTERNAL, details: 'internal error' }
  }
  if (known.kind === 'unavailable') log.warn({ err: known.cause ?? known, ...context }, known.message)
  const code = codeOf[known.kind]
  const metadata = new Metadata()
  if (known.violations.length > 0 || known.retryDelayMs !== undefined || known.reason !== undefined) {
    metadata.set(STATUS_DETAILS_KEY, encodeDetails(code, known.message, known.violations, known.retryDelayMs, known.reason))
  }
  return { code, details: known.message, metadata }
}

function encodeDetails(
  code: Code,
  message: string,
  violations: readonly FieldViolation[],
  retryDelayMs: number | undefined,
  reason: string | undefined,
): Buffer {
  const details: Any[] = []
  if (reason !== undefined) {
    details.push({ typeUrl: ERROR_INFO_TYPE, value: Buffer.from(ErrorInfo.encode({ reason, domain: 'brewmesh', metadata: {} }).finish()) })
  }
  if (violations.length > 0) {
    const badRequest = BadRequest.encode({
      fieldViolations: violations.map((v) => ({ field: v.field, description: v.description, reason: '', localizedMessage: undefined })),
    }).finish()
    details.push({ typeUrl: BAD_REQUEST_TYPE, value: Buffer.from(badRequest) })
  }
  if (retryDelayMs !== undefined) {
    const retryDelay = { seconds: String(Math.floor(retryDelayMs / 1000)), nanos: (retryDelayMs % 1000) * 1_000_000 }
    details.push({ typeUrl: RETRY_INFO_TYPE, value: Buffer.from(RetryInfo.encode({ retryDelay }).finish()) })
  }
  return Buffer.from(Status.encode({ code, message, details }).finish())
}

// Client side: the decoders live with the SDK, where callers find them.
export { errorReasonOf, fieldViolationsOf, retryDelayOf } from '@brewmesh/sdk/errors.ts'
