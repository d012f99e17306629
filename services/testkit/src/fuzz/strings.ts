import type { DescField } from '@bufbuild/protobuf'
import { limitsOf } from './contract.ts'
import type { Random } from './random.ts'
import { labelled as l, type Labelled, type Pool } from './values.ts'

// Strings: odd text, lengths around the contract's limits, UUID shapes, real ids, forged page
// tokens, and text shaped like what the field's name says it holds (an email, a currency).

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
 * a UUID, a known name) up to the one thing changed: a NUL in it, its length at, past or far past
 * the limit, case, spaces.
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
    // Larger than a PostgreSQL index entry may be (about 2,700 bytes).
    l(pad(10_000), 'the valid value padded to 10,000 characters'),
    l(current.toUpperCase(), 'the valid value upper-cased'),
    l(` ${current} `, 'the valid value between spaces'),
    l(`${current}\u0301`, 'the valid value with a combining mark'),
    l(`${current}\ud83c\udf69`, 'the valid value with an emoji'),
  ])
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
