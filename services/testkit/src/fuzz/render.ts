import { toJson, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf'
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect'

// Requests in reports, close to proto JSON (field names as in the .proto, enums by name), but
// written field by field so values proto JSON cannot hold still show: a Timestamp out of range
// prints as its seconds and nanos, an undeclared enum value as its number. Long strings and lists
// are cut so a finding stays readable.

const MAX_STRING = 60
const MAX_LIST = 5

const cut = (s: string) => (s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…(${s.length} chars)` : s)

function scalar(value: unknown): unknown {
  if (typeof value === 'string') return cut(value)
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return `bytes(${value.length}):${Buffer.from(value.subarray(0, 16)).toString('hex')}`
  return value
}

function element(field: DescField, value: unknown): unknown {
  if (field.enum) return field.enum.values.find((v) => v.number === value)?.name ?? value
  if (field.message) return plain(value as ReflectMessage)
  return scalar(value)
}

function plain(r: ReflectMessage): unknown {
  if (r.desc.typeName.startsWith('google.protobuf.')) {
    try {
      return toJson(r.desc, r.message)
    } catch {
      // Out of the type's JSON range: show its fields instead.
    }
  }
  const out: Record<string, unknown> = {}
  for (const field of r.fields) {
    if (!r.isSet(field)) continue
    if (field.fieldKind === 'list') {
      const values = [...r.get(field)].map((v) => element(field, v))
      out[field.name] = values.length > MAX_LIST ? [...values.slice(0, MAX_LIST), `…(${values.length} elements)`] : values
    } else if (field.fieldKind === 'map') {
      out[field.name] = Object.fromEntries([...r.get(field)].slice(0, MAX_LIST).map(([k, v]) => [String(k), element(field, v)]))
    } else {
      out[field.name] = element(field, r.get(field))
    }
  }
  return out
}

/** One message as short JSON. */
function jsonOf(desc: DescMessage, message: Message): string {
  return JSON.stringify(plain(reflect(desc, message)))
}

/** The request(s) of a call: one message, or the stream as a JSON array; cut at `max` characters. */
export function requestJson(desc: DescMessage, messages: readonly Message[], stream: boolean, max = 1200): string {
  const text = stream || messages.length !== 1 ? `[${messages.map((m) => jsonOf(desc, m)).join(',')}]` : jsonOf(desc, messages[0]!)
  return text.length > max ? `${text.slice(0, max)}…` : text
}
