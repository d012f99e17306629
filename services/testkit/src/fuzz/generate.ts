import { create, type DescEnum, type DescField, type DescMessage, type Message, type ScalarType } from '@bufbuild/protobuf'
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect'
import { limitsOf } from './contract.ts'
import type { Random } from './random.ts'
import { enumValue, scalarValue } from './scalars.ts'
import type { Labelled, Pool } from './values.ts'
import { durationValue, fieldMaskPaths, timestampValue } from './well-known.ts'

/** What the generator needs besides the type: randomness, the world's real values, the time. */
export interface GenerateContext {
  rng: Random
  pool: Pool
  /** Milliseconds since the epoch that timestamps are generated around. */
  now: number
}

/** A generated message and, per field path ("lines[0].note"), what kind of value was put there. */
export interface Generated {
  message: Message
  labels: Map<string, string>
}

// Deeper than this, optional message fields stay unset, so recursive types end.
const MAX_DEPTH = 4

/** Element type of a field: a scalar, an enum or a message (for lists and maps, of the values). */
interface ValueKind {
  scalar?: ScalarType | undefined
  enum?: DescEnum | undefined
  message?: DescMessage | undefined
}

/** The context while generating: labels collect what was put where. */
export interface Walk extends GenerateContext {
  labels: Map<string, string>
}

/** A well-typed random message of `desc`: every field kind, oneof case, list length and WKT value. */
export function randomMessage(context: GenerateContext, desc: DescMessage): Generated {
  const labels = new Map<string, string>()
  const message = messageValue({ ...context, labels }, desc, '', 0)
  return { message: message.message, labels }
}

/** A random value of a field's element type (a ReflectMessage for messages). */
export function elementValue(walk: Walk, field: DescField, kind: ValueKind, path: string, depth: number): unknown {
  if (kind.message) return messageValue(walk, kind.message, path, depth, field.parent)
  const value: Labelled<unknown> = kind.enum ? enumValue(walk.rng, kind.enum) : scalarValue(walk.rng, field, kind.scalar!, walk.pool)
  walk.labels.set(path, value.label)
  return value.value
}

function messageValue(walk: Walk, desc: DescMessage, path: string, depth: number, parent?: DescMessage): ReflectMessage {
  const special = wellKnown(walk, desc, path, parent)
  if (special) return special
  const r = reflect(desc)
  const at = (field: DescField) => (path ? `${path}.${field.name}` : field.name)
  for (const member of desc.members) {
    if (member.kind === 'oneof') {
      // Each case, or none.
      const choice = walk.rng.below(member.fields.length + 1)
      const field = member.fields[choice]
      if (field) setField(walk, r, field, at(field), depth)
      else walk.labels.set(`${path ? `${path}.` : ''}${member.name}`, 'no case set')
      continue
    }
    const field = member
    const presence = field.fieldKind === 'message' ? (depth < MAX_DEPTH ? 0.7 : 0) : field.proto.proto3Optional ? 0.5 : 0.65
    if (field.fieldKind === 'list' || field.fieldKind === 'map' || walk.rng.chance(presence)) setField(walk, r, field, at(field), depth)
  }
  return r
}

function setField(walk: Walk, r: ReflectMessage, field: DescField, path: string, depth: number): void {
  switch (field.fieldKind) {
    case 'list': {
      const list = r.get(field)
      for (const v of listValue(walk, field, path, depth + 1)) list.add(v)
      return
    }
    case 'map': {
      const map = r.get(field)
      for (const [k, v] of mapValue(walk, field, path, depth + 1)) map.set(k, v)
      return
    }
    default:
      r.set(field, elementValue(walk, field, field, path, depth + 1))
  }
}

/** How many elements: mostly few, sometimes at, past or far past the contract's limit. */
function elementCount(walk: Walk, field: DescField, depth: number): Labelled<number> {
  const { maxItems } = limitsOf(field)
  const few = (n: number) => ({ value: n, label: `${n} elements` })
  return walk.rng.weighted<Labelled<number>>([
    [30, few(0)],
    [30, few(1)],
    [20, few(walk.rng.between(2, 3))],
    [4, few(5)],
    ...(depth <= 2
      ? ([
          [4, { value: maxItems, label: `${maxItems} elements (the limit)` }],
          [4, { value: maxItems + 1, label: `${maxItems + 1} elements (one past the limit)` }],
          [1, { value: maxItems * 3, label: `${maxItems * 3} elements (far past the limit)` }],
        ] as const)
      : []),
  ])
}

function listValue(walk: Walk, field: DescField & { fieldKind: 'list' }, path: string, depth: number): unknown[] {
  const count = elementCount(walk, field, depth)
  walk.labels.set(path, count.label)
  const kind = { scalar: field.scalar, enum: field.enum, message: field.message }
  // Long lists repeat a handful of generated elements: what matters there is the length.
  const distinct = Math.min(count.value, 5)
  const values = Array.from({ length: distinct }, (_, i) => elementValue(walk, field, kind, `${path}[${i}]`, depth))
  return Array.from({ length: count.value }, (_, i) => values[i % distinct])
}

function mapValue(walk: Walk, field: DescField & { fieldKind: 'map' }, path: string, depth: number): [unknown, unknown][] {
  const count = elementCount(walk, field, depth)
  walk.labels.set(path, count.label)
  const kind = { scalar: field.scalar, enum: field.enum, message: field.message }
  const keyField = { ...field, name: 'key' } as DescField
  const entries = new Map<unknown, unknown>()
  for (let i = 0; i < count.value; i++) {
    const key = scalarValue(walk.rng, keyField, field.mapKey, walk.pool)
    // Keys must be distinct; the index keeps them so whatever was generated.
    const unique = typeof key.value === 'string' ? `${key.value}${i}` : key.value
    entries.set(unique, elementValue(walk, field, kind, `${path}[${i}].value`, depth))
  }
  return [...entries]
}

/** Timestamp, Duration and FieldMask get the values their contracts care about, not random fields. */
function wellKnown(walk: Walk, desc: DescMessage, path: string, parent: DescMessage | undefined): ReflectMessage | undefined {
  const label = (value: Labelled<unknown>) => walk.labels.set(path, value.label)
  switch (desc.typeName) {
    case 'google.protobuf.Timestamp': {
      const t = timestampValue(walk.rng, walk.now)
      label(t)
      return reflect(desc, create(desc, t.value as never))
    }
    case 'google.protobuf.Duration': {
      const d = durationValue(walk.rng)
      label(d)
      return reflect(desc, create(desc, d.value as never))
    }
    case 'google.protobuf.FieldMask': {
      const paths = fieldMaskPaths(walk.rng, maskedFields(parent))
      label(paths)
      return reflect(desc, create(desc, { paths: paths.value }))
    }
    default:
      return undefined
  }
}

/**
 * The field names a FieldMask in `parent` is about: those of the message next to it
 * (UpdateCustomerRequest.update_mask is about UpdateCustomerRequest.customer's fields).
 */
function maskedFields(parent: DescMessage | undefined): string[] {
  if (!parent) return []
  const target = parent.fields.find((f) => f.fieldKind === 'message' && !f.message.typeName.startsWith('google.protobuf.'))
  return (target?.message ?? parent).fields.map((f) => f.name)
}
