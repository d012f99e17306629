import { clone, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf'
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect'
import { limitsOf } from './contract.ts'
import { elementValue, randomMessage, type GenerateContext } from './generate.ts'
import { derivedInteger } from './scalars.ts'
import { derivedString } from './strings.ts'
import type { Labelled } from './values.ts'

/** What a mutation changed: which message of the call, which field, and to what kind of value. */
export interface Change {
  /** Index of the message in the call (0 for unary and server-streaming calls). */
  message: number
  /** Proto path of the field ("lines[0].drink.customization.size"), or "" for a change of the sequence. */
  path: string
  label: string
}

export interface Mutated {
  messages: Message[]
  change: Change
  /** Per message index, the labels of the values generated into it (by field path). */
  labels: Map<string, string>[]
}

/** One field of a message, reached from the root: where a mutation can land. */
interface Site {
  owner: ReflectMessage
  field: DescField
  path: string
}

// Their fields are not the point; the values as a whole are (generate.ts: wellKnown).
const OPAQUE = new Set(['google.protobuf.Timestamp', 'google.protobuf.Duration', 'google.protobuf.FieldMask'])

/** Every field of the message and of the messages set inside it (a few list elements deep). */
function sitesOf(r: ReflectMessage, path = ''): Site[] {
  const sites: Site[] = []
  for (const field of r.fields) {
    const at = path ? `${path}.${field.name}` : field.name
    sites.push({ owner: r, field, path: at })
    if (field.fieldKind === 'message' && r.isSet(field) && !OPAQUE.has(field.message.typeName)) {
      sites.push(...sitesOf(r.get(field), at))
    }
    if (field.fieldKind === 'list' && field.listKind === 'message' && !OPAQUE.has(field.message.typeName)) {
      const list = r.get(field)
      for (let i = 0; i < Math.min(list.size, 3); i++) sites.push(...sitesOf(list.get(i) as ReflectMessage, `${at}[${i}]`))
    }
  }
  return sites
}

/**
 * Changes one field of a copy of `seed`: a new value or one derived from the valid one, cleared,
 * or a list emptied, grown or past its limit. `labels` has the generated values by field path.
 */
export function mutateMessage(
  context: GenerateContext,
  desc: DescMessage,
  seed: Message,
): { message: Message; path: string; label: string; labels: Map<string, string> } {
  const message = clone(desc, seed)
  const labels = new Map<string, string>()
  const sites = sitesOf(reflect(desc, message))
  if (sites.length === 0) return { message, path: '', label: 'a message without fields, unchanged', labels }
  const site = context.rng.pick(sites)
  return { message, path: site.path, label: mutateSite(context, site, labels), labels }
}

/** What was generated at `path`: its own label, or those of the fields inside it. */
function describe(labels: Map<string, string>, path: string, fallback: string): string {
  const own = labels.get(path)
  if (own) return own
  const inside = [...labels].filter(([p]) => p.startsWith(`${path}.`) || p.startsWith(`${path}[`))
  if (inside.length === 0) return fallback
  return `${fallback} (${inside.map(([p, l]) => `${p.slice(path.length).replace(/^\./, '')}: ${l}`).join(', ')})`
}

function mutateSite(context: GenerateContext, { owner, field, path }: Site, labels: Map<string, string>): string {
  const { rng } = context
  const walk = { ...context, labels }
  const labelOf = (fallback: string) => describe(labels, path, fallback)
  if (field.fieldKind === 'list') {
    const list = owner.get(field)
    const kind = { scalar: field.scalar, enum: field.enum, message: field.message }
    const { maxItems } = limitsOf(field)
    const fresh = () => elementValue(walk, field, kind, `${path}[${list.size}]`, 1)
    return rng.weighted<() => string>([
      [2, () => (list.clear(), 'emptied')],
      [
        4,
        () => {
          list.add(fresh())
          return `one more element: ${labelOf('random')}`
        },
      ],
      [
        4,
        () => {
          if (list.size === 0) return (list.add(fresh()), `one element: ${labelOf('random')}`)
          const i = rng.below(list.size)
          list.set(i, elementValue(walk, field, kind, `${path}[${i}]`, 1))
          return `element ${i} replaced: ${labels.get(`${path}[${i}]`) ?? 'random'}`
        },
      ],
      [
        2,
        () => {
          const element = list.size > 0 ? list.get(rng.below(list.size)) : fresh()
          const target = rng.chance(0.5) ? maxItems + 1 : maxItems
          while (list.size < target) list.add(element)
          return `${target} elements${target > maxItems ? ' (one past the limit)' : ' (the limit)'}`
        },
      ],
    ])()
  }
  if (field.fieldKind === 'map') {
    const map = owner.get(field)
    if (rng.chance(0.3)) return (map.clear(), 'emptied')
    const kind = { scalar: field.scalar, enum: field.enum, message: field.message }
    map.set(`k${map.size}`, elementValue(walk, field, kind, `${path}.value`, 1))
    return `one more entry: ${labelOf('random')}`
  }
  // A oneof member being set switches the case; clearing it leaves the oneof without a case.
  if (rng.chance(0.15)) {
    owner.clear(field)
    return field.oneof ? `oneof ${field.oneof.name} without a case` : 'cleared (default value)'
  }
  const derived = owner.isSet(field) && rng.chance(0.5) ? derivedValue(context, field, owner.get(field)) : undefined
  if (derived) {
    try {
      owner.set(field, derived.value)
      labels.set(path, derived.label)
      return derived.label
    } catch {
      // Out of the field's type (an int32 + 1 past its maximum): a generated value instead.
    }
  }
  owner.set(field, elementValue(walk, field, field, path, 1))
  return labelOf(field.fieldKind === 'message' ? `random ${field.message.name}` : 'random')
}

/** A value made from the field's valid one, for strings and integers. */
function derivedValue(context: GenerateContext, field: DescField, current: unknown): Labelled<unknown> | undefined {
  if (field.fieldKind !== 'scalar') return undefined
  if (typeof current === 'string' && current !== '') return derivedString(context.rng, field, current)
  if (typeof current === 'bigint' || (typeof current === 'number' && Number.isInteger(current))) return derivedInteger(context.rng, current)
  return undefined
}

/**
 * Mutates one message of a call's sequence (most often) or the sequence itself: a message
 * dropped, repeated, moved or added, or no message at all.
 */
export function mutateSequence(context: GenerateContext, desc: DescMessage, seeds: readonly Message[]): Mutated {
  const { rng } = context
  const messages = seeds.map((m) => clone(desc, m))
  const labels: Map<string, string>[] = []
  if (messages.length === 0 || rng.chance(0.75)) {
    if (messages.length === 0) messages.push(randomMessage(context, desc).message)
    const i = rng.below(messages.length)
    const mutated = mutateMessage(context, desc, messages[i]!)
    messages[i] = mutated.message
    labels[i] = mutated.labels
    return { messages, change: { message: i, path: mutated.path, label: mutated.label }, labels }
  }
  const i = rng.below(messages.length)
  const sequence = (label: string) => ({ messages, change: { message: i, path: '', label }, labels })
  return rng.weighted<() => Mutated>([
    [3, () => (messages.splice(i, 1), sequence(`message ${i} dropped`))],
    [3, () => (messages.splice(i, 0, clone(desc, messages[i]!)), sequence(`message ${i} sent twice`))],
    [
      2,
      () => {
        const j = rng.below(messages.length)
        ;[messages[i], messages[j]] = [messages[j]!, messages[i]!]
        return sequence(`messages ${i} and ${j} swapped`)
      },
    ],
    [
      2,
      () => {
        const random = randomMessage(context, desc)
        labels[messages.length] = random.labels
        messages.push(random.message)
        return sequence(`a random message appended as message ${messages.length - 1}`)
      },
    ],
    [1, () => (messages.splice(0), sequence('no messages at all'))],
  ])()
}
