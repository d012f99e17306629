/**
 * Array parameters in PostgreSQL's binary form, for the arrays of long values a statement sends
 * (an outbox insert's payloads and headers, a payment round's order documents).
 *
 * pg sends an array parameter as an array literal: every element quoted, its quotes and
 * backslashes escaped, a bytea as hex, which PostgreSQL's array_in then reads back character by
 * character (0.35 to 0.43 % of the machine's samples under the place-order load, bench/README.md,
 * nineteenth session). pg sends a Buffer parameter as it is, in binary format, so an array
 * written in the binary form PostgreSQL's array_recv reads goes with neither step: each element
 * is its length and its bytes. The statement is unchanged (`$1::bytea[]`, `$2::jsonb[]`): the
 * cast names the parameter's type, and the format is chosen per parameter at each execution.
 */

const OID = { bytea: 17, text: 25, jsonb: 3802 } as const

/** jsonb's binary form: a version byte (1), then the JSON text. */
const JSONB_VERSION = 1

/** A one-dimensional array of `elementOid`, each element written by `write` (its `sizes` known first). */
function binaryArray(elementOid: number, sizes: readonly number[], write: (buffer: Buffer, at: number, index: number) => void): Buffer {
  const header = sizes.length === 0 ? 12 : 20
  const total = sizes.reduce((sum, size) => sum + 4 + size, header)
  const buffer = Buffer.allocUnsafe(total)
  buffer.writeInt32BE(sizes.length === 0 ? 0 : 1, 0) // dimensions (an empty array has none)
  buffer.writeInt32BE(0, 4) // no nulls
  buffer.writeUInt32BE(elementOid, 8)
  let at = header
  if (sizes.length > 0) {
    buffer.writeInt32BE(sizes.length, 12)
    buffer.writeInt32BE(1, 16) // lower bound
  }
  sizes.forEach((size, index) => {
    buffer.writeInt32BE(size, at)
    write(buffer, at + 4, index)
    at += 4 + size
  })
  return buffer
}

/** A bytea[] parameter. */
export function byteaArray(values: readonly Uint8Array[]): Buffer {
  return binaryArray(
    OID.bytea,
    values.map((v) => v.byteLength),
    (buffer, at, i) => buffer.set(values[i]!, at),
  )
}

/** A text[] parameter (strings PostgreSQL's text accepts: no NUL). */
export function textArray(values: readonly string[]): Buffer {
  return binaryArray(
    OID.text,
    values.map((v) => Buffer.byteLength(v)),
    (buffer, at, i) => void buffer.write(values[i]!, at),
  )
}

/** A jsonb[] parameter from JSON texts (PostgreSQL parses and checks each, as for a jsonb literal). */
export function jsonbArray(json: readonly string[]): Buffer {
  return binaryArray(
    OID.jsonb,
    json.map((j) => 1 + Buffer.byteLength(j)),
    (buffer, at, i) => {
      buffer[at] = JSONB_VERSION
      buffer.write(json[i]!, at + 1)
    },
  )
}
