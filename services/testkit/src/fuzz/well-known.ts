import type { Random } from './random.ts'
import { labelled as l, type Labelled } from './values.ts'

// The well-known types the contract bounds: Timestamps and Durations in and out of range, and
// FieldMasks with valid and bogus paths.

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
