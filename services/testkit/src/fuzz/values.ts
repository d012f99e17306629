import { ScalarType, type DescEnum, type DescField } from '@bufbuild/protobuf'
import { limitsOf } from './contract.ts'
import type { Random } from './random.ts'

/** A generated value and what kind of value it is, for the report ("NUL character", "int64 2^32"). */
export interface Labelled<T> {
  value: T
  label: string
}

/** Real values of the world under test, so fuzzed requests name things that exist. */
export interface Pool {
  /** Ids of customers, households, orders, favorites, menu items, rewards... */
  ids: readonly Labelled<string>[]
  /** next_page_token values of real list responses, with the request type of their listing. */
  pageTokens: readonly PageToken[]
  /** Revisions and versions the world has reached. */
  numbers: readonly Labelled<bigint>[]
}

/** A real page token, given for a request of type `request` (e.g. brewmesh.order.v1.ListOrdersRequest). */
export interface PageToken extends Labelled<string> {
  request: string
}

const l = <T>(value: T, label: string): Labelled<T> => ({ value, label })

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

const ODD_STRINGS: Labelled<string>[] = [
  l('', 'empty string'),
  l('a\0b', 'NUL character'),
  l('\0', 'only a NUL character'),
  l('caf\u00e9 \u2615', 'accented letters and an emoji'),
  l('e\u0301\u0301\u0301', 'combining marks'),
  l('\u202eevil\u202c', 'right-to-left override'),
  l('\u200b\u200d\ufeff', 'zero-width characters and a BOM'),
  l('\ufffd', 'U+FFFD replacement character'),
  l('\uffff\ufdd0', 'noncharacters'),
  l('\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67', 'emoji ZWJ sequence'),
  l('\u5496\u5561 \u0642\u0647\u0648\u0629', 'CJK and Arabic'),
  l('\t\r\n\u0007\u001b[31m', 'control characters'),
  l('\u2028\u2029', 'line and paragraph separators'),
  l('   ', 'only spaces'),
  l(" x'; drop table customers; --", 'SQL quote'),
  l('%_\\%', 'LIKE wildcards and a backslash'),
  l('{"$ne":null}', 'JSON text'),
  l('../../etc/passwd', 'path traversal'),
  l('-1', 'number text -1'),
  l('1e309', 'number text 1e309'),
  l('NaN', 'NaN text'),
  l('18446744073709551616', 'number text 2^64'),
  l('null', 'the word null'),
  l('<script>', 'markup'),
]

function shortWord(rng: Random): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return Array.from({ length: rng.between(1, 12) }, () => rng.pick([...letters])).join('')
}

/** Lengths at, just past and far past the field's limit, in one- and multi-unit characters. */
function lengthStrings(rng: Random, maxLen: number): Labelled<string>[] {
  return [
    l('x'.repeat(maxLen), `${maxLen} characters (the limit)`),
    l('x'.repeat(maxLen + 1), `${maxLen + 1} characters (one past the limit)`),
    l('\u2615'.repeat(maxLen), `${maxLen} three-byte characters (the limit)`),
    l('\ud83c\udf69'.repeat(maxLen), `${maxLen} astral characters (the limit, ${maxLen * 2} UTF-16 units)`),
    l('\ud83c\udf69'.repeat(maxLen + 1), `${maxLen + 1} astral characters (past the limit)`),
    l(shortWord(rng).repeat(400).slice(0, 10_000), '10,000 characters'),
  ]
}

/** Shapes of a UUID that are almost right, and random ones that name nothing. */
function uuidStrings(rng: Random, pool: Pool): Labelled<string>[] {
  const real = pool.ids.length > 0 ? rng.pick(pool.ids) : l(rng.uuid(), 'random UUID')
  return [
    l(rng.uuid(), 'random UUID'),
    l('00000000-0000-0000-0000-000000000000', 'nil UUID'),
    l('ffffffff-ffff-ffff-ffff-ffffffffffff', 'max UUID'),
    l(real.value.toUpperCase(), `upper-case ${real.label}`),
    l(`{${real.value}}`, `${real.label} in braces`),
    l(`${real.value} `, `${real.label} with a trailing space`),
    l(real.value.slice(0, -1), `${real.label} one character short`),
    l(real.value.replaceAll('-', ''), `${real.label} without dashes`),
    l('gggggggg-gggg-4ggg-8ggg-gggggggggggg', 'UUID-shaped with non-hex letters'),
    l(`${real.value}\0`, `${real.label} with a NUL character`),
  ]
}

function generic(rng: Random, field: DescField, pool: Pool): Labelled<string> {
  return rng.weighted<() => Labelled<string>>([
    [3, () => l(shortWord(rng), 'short word')],
    // NUL gets a class of its own: PostgreSQL refuses it in text, so it finds every stored string.
    [2, () => l(`${shortWord(rng)}\0${shortWord(rng)}`, 'NUL character')],
    [4, () => rng.pick(ODD_STRINGS)],
    [2, () => rng.pick(lengthStrings(rng, limitsOf(field).maxLen))],
    [1, () => rng.pick(uuidStrings(rng, pool))],
    [1, () => (pool.ids.length > 0 ? rng.pick(pool.ids) : l(rng.uuid(), 'random UUID'))],
  ])()
}

/**
 * A string made from a field's valid value, so it passes the checks the value passes (required,
 * a UUID, a known name) up to the one thing changed: a NUL in it, its length at or past the limit,
 * case, spaces.
 */
export function derivedString(rng: Random, field: DescField, current: string): Labelled<string> {
  const { maxLen } = limitsOf(field)
  const at = rng.below(current.length + 1)
  const pad = (n: number) => current + 'x'.repeat(Math.max(0, n - [...current].length))
  return rng.pick([
    l(`${current.slice(0, at)}\0${current.slice(at)}`, 'the valid value with a NUL character inside'),
    l(`${current}\0`, 'the valid value with a NUL character at the end'),
    l(pad(maxLen), `the valid value padded to ${maxLen} characters (the limit)`),
    l(pad(maxLen + 1), `the valid value padded to ${maxLen + 1} characters (one past the limit)`),
    l(current.toUpperCase(), 'the valid value upper-cased'),
    l(` ${current} `, 'the valid value between spaces'),
    l(`${current}\u0301`, 'the valid value with a combining mark'),
    l(`${current}\ud83c\udf69`, 'the valid value with an emoji'),
  ])
}

/** An integer near a field's valid value: one off, negated, doubled. */
export function derivedInteger(rng: Random, current: number | bigint): Labelled<number | bigint> {
  const labels = ['the valid value + 1', 'the valid value - 1', 'the valid value negated', 'the valid value doubled']
  const values =
    typeof current === 'bigint' ? [current + 1n, current - 1n, -current, current * 2n] : [current + 1, current - 1, -current, current * 2]
  const i = rng.below(values.length)
  return l(values[i]!, labels[i]!)
}

/**
 * Forged page tokens: what a client could send that no server ever gave out. Most are a real token
 * of the same listing with one change, so whatever the token's checks (filters, signature) let
 * through reaches the code that reads the position.
 */
function forgedTokens(rng: Random, pool: Pool, request: string): Labelled<string>[] {
  const own = pool.pageTokens.filter((t) => t.request === request)
  const real = own.length > 0 ? rng.pick(own) : pool.pageTokens.length > 0 ? rng.pick(pool.pageTokens) : l('', 'empty string')
  const b64 = (text: string) => Buffer.from(text).toString('base64url')
  return [
    ...jsonTokens(rng, real),
    l(real.value.slice(0, Math.floor(real.value.length / 2)), `${real.label} cut in half`),
    l(`${real.value}AA`, `${real.label} with bytes appended`),
    l(b64('{}'), 'base64 of {}'),
    l(b64(JSON.stringify([1e308, null, 'x'])), 'base64 of a JSON array'),
    l(b64('\0\0\0'), 'base64 of NUL bytes'),
    l('!!!not base64!!!', 'not base64'),
  ]
}

const TOKEN_VALUES: Labelled<unknown>[] = [
  l('x', '"x"'),
  l('', '""'),
  l('a\0b', 'a string with NUL'),
  l('not a date', '"not a date"'),
  l('+275760-09-13T00:00:00.001Z', 'a date past the JavaScript range'),
  l('0000-00-00T00:00:00Z', 'a zero date'),
  l(-1, '-1'),
  l(1e308, '1e308'),
  l(Number.MAX_SAFE_INTEGER + 2, '2^53+1 (as a double: 2^53+2)'),
  l(2147483648, '2^31'),
  l(null, 'null'),
  l({}, 'an object'),
  l(['x'], 'an array'),
  l(true, 'true'),
]

/** A real token that is base64url JSON, with one value changed (its checks' own fields included). */
function jsonTokens(rng: Random, real: Labelled<string>): Labelled<string>[] {
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(real.value, 'base64url').toString('utf8'))
  } catch {
    return []
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return []
  const keys = Object.keys(decoded)
  if (keys.length === 0) return []
  return Array.from({ length: 4 }, () => {
    const key = rng.pick(keys)
    const value = rng.pick(TOKEN_VALUES)
    const forged = Buffer.from(JSON.stringify({ ...decoded, [key]: value.value })).toString('base64url')
    return l(forged, `${real.label} with ${key} = ${value.label}`)
  })
}

const HINTED: Record<string, readonly string[]> = {
  email: ['ada@example.com', 'ADA@EXAMPLE.COM', 'no-at-sign', '@example.com', 'a@b', 'a@@b.c'],
  phone: ['+14155550123', '4155550123', '+', '+1234567890123456', '+0000000000'],
  currency_code: ['USD', 'EUR', 'usd', 'XXX', 'US', 'USDD'],
  country_code: ['US', 'DE', 'us', 'ZZ', 'USA'],
  category: ['espresso', 'brewed', 'tea', 'bakery', 'cold-brew', 'ESPRESSO', 'no-such-category'],
  syrups: ['vanilla', 'caramel', 'hazelnut', 'sugar-free-vanilla', 'VANILLA', 'ketchup'],
  username: ['ada', 'ab', 'a'.repeat(33), 'Ada', 'ada lovelace', 'ada.l-1_'],
  device_id: ['my-phone', 'tablet-2'],
}

const isIdField = (name: string) => name === 'id' || /_ids?$/.test(name)

/** A string for a field, shaped by what its name says it holds (an id, a token, an email...). */
export function stringValue(rng: Random, field: DescField, pool: Pool): Labelled<string> {
  const name = field.name
  if (isIdField(name) && rng.chance(0.85)) {
    return rng.weighted<() => Labelled<string>>([
      [5, () => (pool.ids.length > 0 ? rng.pick(pool.ids) : l(rng.uuid(), 'random UUID'))],
      [3, () => rng.pick(uuidStrings(rng, pool))],
    ])()
  }
  if (name === 'page_token' && rng.chance(0.85)) {
    return rng.chance(0.3) && pool.pageTokens.length > 0
      ? rng.pick(pool.pageTokens)
      : rng.pick(forgedTokens(rng, pool, field.parent.typeName))
  }
  const hinted = HINTED[name]
  if (hinted && rng.chance(0.6)) {
    const value = rng.pick(hinted)
    return l(value, `${name} ${JSON.stringify(value)}`)
  }
  return generic(rng, field, pool)
}

// ---------------------------------------------------------------------------------------------
// Numbers, booleans, bytes
// ---------------------------------------------------------------------------------------------

// Small values around the documented ranges (0 to 5, 1 to 20, 1 to 500...), and the type's ends.
const INT32: Labelled<number>[] = [
  l(0, '0'),
  l(1, '1'),
  l(-1, '-1'),
  l(2, '2'),
  l(4, '4'),
  l(5, '5'),
  l(6, '6'),
  l(20, '20'),
  l(21, '21'),
  l(100, '100'),
  l(101, '101'),
  l(500, '500'),
  l(501, '501'),
]
const INT32_ENDS: Labelled<number>[] = [
  l(2147483647, 'int32 max 2^31-1'),
  l(2147483646, 'int32 max - 1'),
  l(-2147483648, 'int32 min -2^31'),
]

const UINT32: Labelled<number>[] = [l(0, '0'), l(1, '1'), l(4294967295, 'uint32 max 2^32-1'), l(2147483648, '2^31')]

const INT64: Labelled<bigint>[] = [
  l(0n, '0'),
  l(1n, '1'),
  l(-1n, '-1'),
  l(5n, '5'),
  l(500n, '500'),
  l(-500n, '-500'),
  l(2147483647n, '2^31-1'),
  l(2147483648n, '2^31'),
  l(4294967296n, '2^32'),
  l(9007199254740991n, '2^53-1'),
  l(9007199254740992n, '2^53'),
  l(9007199254740993n, '2^53+1'),
  l(-9007199254740993n, '-(2^53+1)'),
  l(9223372036854775807n, 'int64 max 2^63-1'),
  l(-9223372036854775808n, 'int64 min -2^63'),
]

const UINT64: Labelled<bigint>[] = [
  l(0n, '0'),
  l(1n, '1'),
  l(4294967296n, '2^32'),
  l(9007199254740993n, '2^53+1'),
  l(9223372036854775808n, '2^63'),
  l(18446744073709551615n, 'uint64 max 2^64-1'),
]

const FLOATS: Labelled<number>[] = [
  l(0, '0'),
  l(-0, '-0'),
  l(1.5, '1.5'),
  l(Number.NaN, 'NaN'),
  l(Number.POSITIVE_INFINITY, 'Infinity'),
  l(Number.NEGATIVE_INFINITY, '-Infinity'),
  l(1e308, '1e308'),
  l(Number.MIN_VALUE, 'smallest denormal'),
]

/** A value of a scalar type, typed as @bufbuild/protobuf holds it (64-bit integers as bigint). */
export function scalarValue(rng: Random, field: DescField, scalar: ScalarType, pool: Pool): Labelled<unknown> {
  switch (scalar) {
    case ScalarType.STRING:
      return stringValue(rng, field, pool)
    case ScalarType.BOOL:
      return rng.chance(0.5) ? l(true, 'true') : l(false, 'false')
    case ScalarType.DOUBLE:
      return rng.chance(0.8) ? rng.pick(FLOATS) : l(rng.next() * 1e6 - 5e5, 'random double')
    case ScalarType.FLOAT: {
      const v = rng.chance(0.8) ? rng.pick(FLOATS) : l(rng.next() * 1e3, 'random float')
      return l(Math.fround(v.value), v.label)
    }
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return rng.weighted<() => Labelled<number>>([
        [4, () => rng.pick(INT32)],
        [2, () => rng.pick(INT32_ENDS)],
        [2, () => l(rng.between(-10, 30), 'small int')],
        [1, () => l(rng.between(-2147483648, 2147483647), 'random int32')],
      ])()
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return rng.chance(0.7) ? rng.pick(UINT32) : l(rng.below(4294967296), 'random uint32')
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64Value(
        field,
        rng.weighted<() => Labelled<bigint>>([
          [6, () => rng.pick(INT64)],
          [2, () => (pool.numbers.length > 0 ? rng.pick(pool.numbers) : l(1n, '1'))],
          [1, () => l(BigInt(rng.between(-10, 30)), 'small int')],
          [1, () => l(rng.int64(), 'random int64')],
        ])(),
      )
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return int64Value(field, rng.chance(0.8) ? rng.pick(UINT64) : l(BigInt.asUintN(64, rng.int64()), 'random uint64'))
    case ScalarType.BYTES:
      return bytesValue(rng, field)
  }
}

/** A field with `jstype = JS_STRING` holds 64-bit integers as strings. */
function int64Value(field: DescField, v: Labelled<bigint>): Labelled<unknown> {
  return 'longAsString' in field && field.longAsString ? l(v.value.toString(), v.label) : v
}

function bytesValue(rng: Random, field: DescField): Labelled<Uint8Array> {
  const { maxLen } = limitsOf(field)
  const random = (n: number) => Uint8Array.from({ length: n }, () => rng.below(256))
  return rng.pick([
    l(new Uint8Array(0), 'no bytes'),
    l(random(rng.between(1, 16)), 'a few random bytes'),
    l(random(maxLen), `${maxLen} bytes (the limit)`),
    l(random(maxLen + 1), `${maxLen + 1} bytes (past the limit)`),
    l(Uint8Array.from([0xff, 0xfe, 0x00]), 'bytes that are not UTF-8'),
  ])
}

// ---------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------

/** A declared value (UNSPECIFIED included) or a number the enum does not declare. */
export function enumValue(rng: Random, desc: DescEnum): Labelled<number> {
  if (rng.chance(0.75)) {
    const v = rng.pick(desc.values)
    return l(v.number, v.name)
  }
  const max = Math.max(...desc.values.map((v) => v.number))
  return rng.pick([
    l(max + 1, `undeclared ${desc.name} ${max + 1}`),
    l(99, `undeclared ${desc.name} 99`),
    l(-1, `undeclared ${desc.name} -1`),
    l(2147483647, `undeclared ${desc.name} 2^31-1`),
  ])
}

// ---------------------------------------------------------------------------------------------
// Well-known types
// ---------------------------------------------------------------------------------------------

/** google.protobuf.Timestamp seconds and nanos: usual times, the contract's bounds and beyond. */
export function timestampValue(rng: Random, now: number): Labelled<{ seconds: bigint; nanos: number }> {
  const at = (ms: number, label: string) => l({ seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 }, label)
  const raw = (seconds: bigint, nanos: number, label: string) => l({ seconds, nanos }, label)
  return rng.pick([
    at(now, 'now'),
    at(now - 86_400_000, 'a day ago'),
    at(now + 86_400_000, 'in a day'),
    at(now + 3_650 * 86_400_000, 'in ten years'),
    raw(0n, 0, '1970-01-01T00:00:00Z (the lower bound)'),
    raw(-1n, 999_999_999, 'just before 1970'),
    raw(-2208988800n, 0, '1900-01-01 (before the range)'),
    raw(-62135596800n, 0, '0001-01-01 (protobuf minimum)'),
    raw(-62135596801n, 0, 'before 0001-01-01 (out of protobuf range)'),
    raw(253402300799n, 999_999_999, '9999-12-31T23:59:59.999999999Z (the upper bound)'),
    raw(253402300800n, 0, '10000-01-01 (out of range)'),
    raw(9007199254740993n, 0, 'seconds 2^53+1'),
    raw(9223372036854775807n, 0, 'seconds int64 max'),
    raw(-9223372036854775808n, 0, 'seconds int64 min'),
    raw(BigInt(Math.floor(now / 1000)), -1, 'nanos -1'),
    raw(BigInt(Math.floor(now / 1000)), 1_000_000_000, 'nanos 10^9 (out of range)'),
    raw(BigInt(Math.floor(now / 1000)), 2147483647, 'nanos int32 max'),
  ])
}

/** google.protobuf.Duration seconds and nanos: zero, the +/-10,000-year bound and beyond, mixed signs. */
export function durationValue(rng: Random): Labelled<{ seconds: bigint; nanos: number }> {
  const raw = (seconds: bigint, nanos: number, label: string) => l({ seconds, nanos }, label)
  return rng.pick([
    raw(0n, 0, 'zero'),
    raw(1n, 0, '1 s'),
    raw(-1n, 0, '-1 s'),
    raw(0n, 500_000_000, '0.5 s'),
    raw(315576000000n, 0, '10,000 years (the bound)'),
    raw(315576000001n, 0, 'past 10,000 years'),
    raw(-315576000001n, 0, 'before -10,000 years'),
    raw(1n, -500_000_000, 'seconds and nanos of opposite signs'),
    raw(0n, 1_000_000_000, 'nanos 10^9 (out of range)'),
    raw(9223372036854775807n, 999_999_999, 'seconds int64 max'),
  ])
}

/**
 * FieldMask paths: names of the fields the mask is about (`fields`, the fields of the message next
 * to it), several at once, and paths that name nothing or are spelled wrong.
 */
export function fieldMaskPaths(rng: Random, fields: readonly string[]): Labelled<string[]> {
  const some = fields.length > 0 ? fields : ['display_name']
  const one = rng.pick(some)
  return rng.weighted<() => Labelled<string[]>>([
    [4, () => l([one], `path ${one}`)],
    [2, () => l([...new Set([one, rng.pick(some), rng.pick(some)])], 'several valid paths')],
    [1, () => l([...some], 'every field')],
    [1, () => l([], 'no paths')],
    [1, () => l([one, one], `path ${one} twice`)],
    [
      4,
      () =>
        rng.pick([
          l(['nope'], 'unknown path'),
          l([''], 'empty path'),
          l([one.toUpperCase()], `upper-case path ${one.toUpperCase()}`),
          l([one.replace(/_(\w)/g, (_, c: string) => c.toUpperCase())], 'camelCase path'),
          l([`${one} `], 'path with a trailing space'),
          l([`${one}.nested.deeper`], 'path into a scalar'),
          l(['*'], 'wildcard path'),
          l(['a..b'], 'path with an empty segment'),
          l([`${one}\0`], 'path with a NUL character'),
          l(['x'.repeat(300)], '300-character path'),
          l(
            Array.from({ length: 101 }, (_, i) => some[i % some.length]!),
            '101 paths (past the limit)',
          ),
        ]),
    ],
  ])()
}
