import { readFileSync } from 'node:fs'
import { createFileRegistry, fromBinary, getExtension, hasExtension, type DescField, type DescMessage } from '@bufbuild/protobuf'
import { configureTextEncoding } from '@bufbuild/protobuf/wire'
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt'
import { descriptorSetPath } from '@brewmesh/gen/descriptors.ts'
import type { FieldViolation } from '../errors.ts'

/**
 * The limits the contracts put on every request message (proto/brewmesh/common/v1/limits.proto),
 * read from the descriptor set `buf build` wrote and compiled once per message type into plain
 * checks. One mechanism for every RPC of every service: strings (length, NUL, UTF-8), bytes,
 * repeated and map sizes, timestamps and durations. Violations name the field by its proto path
 * and never repeat the value. Enum values are the services' own rule (each names the fields it
 * refuses together with its other checks, so a caller sees every problem at once).
 */

const DEFAULT_MAX_LEN = 256
const DEFAULT_MAX_ITEMS = 100
const MIN_TIME = Date.UTC(1970, 0, 1)
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999)
const MAX_DURATION_SECONDS = 315_576_000_000 // 10,000 years, the protobuf Duration range

/** `lossy`: the message was decoded from bytes that were not all valid UTF-8. */
type Check = (value: unknown, path: string, out: FieldViolation[], lossy: boolean) => void

// ---------------------------------------------------------------------------------------------
// Strict UTF-8: protobuf decoding replaces invalid bytes with U+FFFD, so two different byte
// strings would read as one string (two idempotency keys collapsing into one). Decoding is made
// strict for this process; a message in which it failed is remembered and its strings holding
// U+FFFD are refused.
// ---------------------------------------------------------------------------------------------

let invalidUtf8 = false
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const lenient = new TextDecoder('utf-8', { ignoreBOM: true })
const encoder = new TextEncoder()
configureTextEncoding({
  encodeUtf8: (text) => encoder.encode(text),
  decodeUtf8: (bytes) => {
    try {
      return strict.decode(bytes)
    } catch {
      invalidUtf8 = true
      return lenient.decode(bytes)
    }
  },
  checkUtf8: (text) => text.isWellFormed(),
})

const lossy = new WeakSet<object>()

/** Decodes a request, remembering whether any of its strings were not valid UTF-8. */
export function decodeStrictly<T>(decode: (bytes: Buffer) => T, bytes: Buffer): T {
  invalidUtf8 = false
  const message = decode(bytes)
  if (invalidUtf8 && typeof message === 'object' && message !== null) lossy.add(message)
  invalidUtf8 = false
  return message
}

// ---------------------------------------------------------------------------------------------

/**
 * The contracts' types and options, without their comments: buf keeps each file's source info
 * (every comment, and a path and span per element) in the set for server reflection to show, and
 * here it would be 3.3 MiB of each service's heap that no check reads.
 */
function loadRegistry() {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath))
  for (const file of set.file) file.sourceCodeInfo = undefined
  return createFileRegistry(set)
}

const registry = loadRegistry()
const limitsOption = registry.getExtension('brewmesh.common.v1.limits')

function limitsOf(field: DescField): { maxLen: number; maxItems: number } {
  const options = field.proto.options
  const limits =
    options && limitsOption && hasExtension(options, limitsOption)
      ? (getExtension(options, limitsOption) as { maxLen?: number; maxItems?: number })
      : {}
  return { maxLen: limits.maxLen || DEFAULT_MAX_LEN, maxItems: limits.maxItems || DEFAULT_MAX_ITEMS }
}

const codePoints = (s: string) => {
  let n = 0
  for (const _ of s) n++
  return n
}

function stringCheck(maxLen: number): Check {
  return (value, path, out, lossy) => {
    if (typeof value !== 'string' || value.length === 0) return
    // UTF-16 units are never fewer than code points: only a long string needs counting.
    if (value.length > maxLen && codePoints(value) > maxLen) out.push({ field: path, description: `must be at most ${maxLen} characters` })
    if (value.includes('\0')) out.push({ field: path, description: 'must not contain a NUL character' })
    if (lossy && value.includes('\uFFFD')) out.push({ field: path, description: 'is not valid UTF-8' })
  }
}

function bytesCheck(maxLen: number): Check {
  return (value, path, out) => {
    if (value instanceof Uint8Array && value.length > maxLen) out.push({ field: path, description: `must be at most ${maxLen} bytes` })
  }
}

const timestampCheck: Check = (value, path, out) => {
  if (!(value instanceof Date)) return
  const t = value.getTime()
  if (!(t >= MIN_TIME && t <= MAX_TIME))
    out.push({ field: path, description: 'must be a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z' })
}

const durationCheck: Check = (value, path, out) => {
  const seconds = Number((value as { seconds?: string } | undefined)?.seconds ?? 0)
  if (!(Math.abs(seconds) <= MAX_DURATION_SECONDS)) out.push({ field: path, description: 'must be within 10,000 years' })
}

const compiled = new Map<string, Check>()

/** The check of one message type (recursive types resolve lazily through the map). */
function messageCheck(desc: DescMessage): Check {
  const known = compiled.get(desc.typeName)
  if (known) return known
  let checks: { field: DescField; read: (m: Record<string, unknown>) => unknown; check: Check }[] | undefined
  const check: Check = (value, path, out, lossy) => {
    if (typeof value !== 'object' || value === null) return
    checks ??= desc.fields.flatMap((field) => {
      const check = fieldCheck(field)
      return check ? [{ field, read: reader(field), check }] : []
    })
    for (const c of checks) {
      const v = c.read(value as Record<string, unknown>)
      if (v !== undefined) c.check(v, path + c.field.name, out, lossy)
    }
  }
  compiled.set(desc.typeName, check)
  return check
}

/** How ts-proto holds a field: a property, or inside its oneof's `{ $case, value }`. */
function reader(field: DescField): (m: Record<string, unknown>) => unknown {
  const oneof = field.oneof
  if (!oneof) return (m) => m[field.localName]
  return (m) => {
    const u = m[oneof.localName] as { $case?: string; value?: unknown } | undefined
    return u?.$case === field.localName ? u.value : undefined
  }
}

/** A single (non-repeated) value's check, by its type. */
function valueCheck(
  field: DescField,
  kind: { scalar?: number; message?: DescMessage; enum?: { typeName: string; values: { number: number }[] } },
): Check | undefined {
  const { maxLen } = limitsOf(field)
  if (kind.scalar === 9) return stringCheck(maxLen) // STRING
  if (kind.scalar === 12) return bytesCheck(maxLen) // BYTES
  const message = kind.message
  if (!message) return undefined
  switch (message.typeName) {
    case 'google.protobuf.Timestamp':
      return timestampCheck
    case 'google.protobuf.Duration':
      return durationCheck
    case 'google.protobuf.FieldMask': {
      // ts-proto holds a FieldMask as its list of paths.
      const path = stringCheck(maxLen)
      const { maxItems } = limitsOf(field)
      return (value, at, out, lossy) => {
        if (!Array.isArray(value)) return
        if (value.length > maxItems) out.push({ field: at, description: `must have at most ${maxItems} paths` })
        value.slice(0, maxItems).forEach((p, i) => path(p, `${at}.paths[${i}]`, out, lossy))
      }
    }
    case 'google.protobuf.StringValue':
      return stringCheck(maxLen) // unwrapped to a string
    case 'google.protobuf.Struct':
    case 'google.protobuf.Value':
    case 'google.protobuf.ListValue':
    case 'google.protobuf.Any':
      return undefined
    default: {
      const nested = messageCheck(message)
      return (value, path, out, lossy) => nested(value, `${path}.`, out, lossy)
    }
  }
}

function fieldCheck(field: DescField): Check | undefined {
  switch (field.fieldKind) {
    case 'scalar':
    case 'enum':
    case 'message':
      return valueCheck(field, field)
    case 'list': {
      const element = valueCheck(field, { scalar: field.scalar, message: field.message, enum: field.enum })
      const { maxItems } = limitsOf(field)
      return (value, path, out, lossy) => {
        if (!Array.isArray(value)) return
        if (value.length > maxItems) return void out.push({ field: path, description: `must have at most ${maxItems} elements` })
        if (element) value.forEach((v, i) => element(v, `${path}[${i}]`, out, lossy))
      }
    }
    case 'map': {
      const element = valueCheck(field, { scalar: field.scalar, message: field.message, enum: field.enum })
      const key = stringCheck(limitsOf(field).maxLen)
      const { maxItems } = limitsOf(field)
      return (value, path, out, lossy) => {
        if (typeof value !== 'object' || value === null) return
        const entries = Object.entries(value)
        if (entries.length > maxItems) return void out.push({ field: path, description: `must have at most ${maxItems} entries` })
        // A map entry is named by its position, never by its (unbounded) key.
        entries.forEach(([k, v], i) => {
          key(k, `${path}[${i}].key`, out, lossy)
          element?.(v, `${path}[${i}].value`, out, lossy)
        })
      }
    }
  }
}

/** The violations of one request message of the given full type name (none: an empty list). */
export function violationsOf(typeName: string, message: unknown): FieldViolation[] {
  const desc = registry.getMessage(typeName)
  if (!desc) throw new Error(`${typeName} is not in the descriptor set`)
  const out: FieldViolation[] = []
  messageCheck(desc)(message, '', out, typeof message === 'object' && message !== null && lossy.has(message))
  return out
}

/** The request type of an RPC path, e.g. '/brewmesh.order.v1.OrderService/PlaceOrder'. */
export function requestTypeOf(path: string): string {
  const [service, method] = path.slice(1).split('/')
  const desc = registry.getService(service ?? '')?.methods.find((m) => m.name === method)
  if (!desc) throw new Error(`${path} is not in the descriptor set`)
  return desc.input.typeName
}
