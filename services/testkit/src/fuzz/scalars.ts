import { ScalarType, type DescEnum, type DescField } from '@bufbuild/protobuf'
import { limitsOf } from './contract.ts'
import type { Random } from './random.ts'
import { stringValue } from './strings.ts'
import { labelled as l, type Labelled, type Pool } from './values.ts'

// Numbers, booleans and bytes at the ends of their types and around the documented ranges, and
// enum values declared or not.

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

/** An integer near a field's valid value: one off, negated, doubled. */
export function derivedInteger(rng: Random, current: number | bigint): Labelled<number | bigint> {
  const labels = ['the valid value + 1', 'the valid value - 1', 'the valid value negated', 'the valid value doubled']
  const values =
    typeof current === 'bigint' ? [current + 1n, current - 1n, -current, current * 2n] : [current + 1, current - 1, -current, current * 2]
  const i = rng.below(values.length)
  return l(values[i]!, labels[i]!)
}

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
