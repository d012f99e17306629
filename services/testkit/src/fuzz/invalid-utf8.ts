import { clone, ScalarType, toBinary, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf'
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect'
import type { Random } from './random.ts'

// A string field whose bytes are not UTF-8 cannot be built through any protobuf library (they all
// encode text as UTF-8), so it is made on the wire: the field gets a marker of plain ASCII, the
// message is encoded, and the marker's bytes are overwritten with an invalid sequence of the same
// length. Every length prefix stays right; only that one string is broken. The contract
// (limits.proto) says such a request is refused with INVALID_ARGUMENT.

const SEQUENCES: { bytes: number[]; label: string }[] = [
  { bytes: [0xff], label: 'a lone 0xFF byte' },
  { bytes: [0x80], label: 'a lone continuation byte' },
  { bytes: [0xc0, 0xaf], label: 'an overlong encoding of "/"' },
  { bytes: [0xed, 0xa0, 0x80], label: 'an encoded UTF-16 surrogate' },
  { bytes: [0xf4, 0x90, 0x80, 0x80], label: 'a code point past U+10FFFF' },
  { bytes: [0xe2, 0x82], label: 'a truncated three-byte sequence' },
]

const MARKER_LENGTH = 12

export interface InvalidUtf8 {
  /** The message as encoded before the marker was overwritten (for the report). */
  message: Message
  /** The bytes sent: that message with one string made invalid UTF-8. */
  wire: Uint8Array
  path: string
  label: string
}

/** Every singular or repeated string field in the message and in the messages set inside it. */
function stringSites(r: ReflectMessage, path = ''): { owner: ReflectMessage; field: DescField; path: string }[] {
  const sites: { owner: ReflectMessage; field: DescField; path: string }[] = []
  for (const field of r.fields) {
    const at = path ? `${path}.${field.name}` : field.name
    if ((field.fieldKind === 'scalar' || field.fieldKind === 'list') && field.scalar === ScalarType.STRING)
      sites.push({ owner: r, field, path: at })
    if (field.fieldKind === 'message' && r.isSet(field)) sites.push(...stringSites(r.get(field), at))
  }
  return sites
}

/** `seed` with one string field's bytes made invalid UTF-8; undefined when it has no string field. */
export function withInvalidUtf8(rng: Random, desc: DescMessage, seed: Message): InvalidUtf8 | undefined {
  const message = clone(desc, seed)
  const sites = stringSites(reflect(desc, message))
  if (sites.length === 0) return undefined
  const { owner, field, path } = rng.pick(sites)
  const marker = `m${rng.uuid().replaceAll('-', '')}`.slice(0, MARKER_LENGTH)
  if (field.fieldKind === 'list') owner.get(field).add(marker)
  else owner.set(field, marker)
  const wire = toBinary(desc, message)
  const at = Buffer.from(wire).indexOf(marker)
  if (at < 0) throw new Error(`the marker for ${path} is not in the encoded ${desc.typeName}`)
  const sequence = rng.pick(SEQUENCES)
  // Valid text around the broken bytes: the decoder must look inside the string, not only at its ends.
  const patch = Buffer.concat([Buffer.from('ok'), Buffer.from(sequence.bytes), Buffer.from('x'.repeat(MARKER_LENGTH))]).subarray(
    0,
    MARKER_LENGTH,
  )
  const broken = Uint8Array.from(wire)
  broken.set(patch, at)
  return {
    message,
    wire: broken,
    path: field.fieldKind === 'list' ? `${path}[${owner.get(field).size - 1}]` : path,
    label: `invalid UTF-8: ${sequence.label}`,
  }
}
