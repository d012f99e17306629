import { clone, toBinary, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf'
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect'
import { withMessages, type FuzzCase } from './cases.ts'

/** Sends a case again: true when it still fails the same way. */
export type StillFails = (candidate: FuzzCase) => Promise<boolean>

/** A field that still differs from the seed in the smallest failing case. */
export interface Difference {
  /** Position of the message in the smaller case's stream. */
  position: number
  /** Index of that message in the original case (its labels are under this index). */
  source: number
  /** Proto path inside the message, e.g. "lines[0].note". */
  path: string
}

// Each step is a call; a failure worth minimizing is rare, so a budget per failure is plenty.
const MAX_CALLS = 60
const MAX_DEPTH = 3

const sameBytes = (desc: DescMessage, a: Message, b: Message) => Buffer.from(toBinary(desc, a)).equals(toBinary(desc, b))

/** The field at `path` (field names and list indexes) of a message, as a reflect handle on its owner. */
type Step = { field: DescField; index?: number }

function ownerAt(root: ReflectMessage, steps: readonly Step[]): ReflectMessage | undefined {
  let r: ReflectMessage | undefined = root
  for (const { field, index } of steps) {
    if (!r || !r.isSet(field)) return undefined
    if (field.fieldKind === 'message') r = r.get(field)
    else if (field.fieldKind === 'list' && field.listKind === 'message' && index !== undefined)
      r = r.get(field).get(index) as ReflectMessage | undefined
    else return undefined
  }
  return r
}

const pathOf = (steps: readonly Step[], field: DescField) =>
  [...steps.map((s) => `${s.field.name}${s.index === undefined ? '' : `[${s.index}]`}`), field.name].join('.')

/**
 * Shrinks a failing random case towards its seed: drops streamed messages it can do without, then
 * gives fields (and fields of fields) their seed values one at a time, keeping each change after
 * which the call still fails the same way. What still differs from the seed is what triggers the
 * failure. Returns the smaller case and the fields that still differ.
 */
export async function minimize(failing: FuzzCase, stillFails: StillFails): Promise<{ minimal: FuzzCase; differing: Difference[] }> {
  const desc = failing.method.input
  let current = failing.messages.map((m) => clone(desc, m))
  let sources = current.map((_, i) => i)
  let calls = 0
  const attempt = async (messages: Message[]) => {
    if (calls >= MAX_CALLS) return false
    calls++
    if (!(await stillFails(withMessages(failing, messages)))) return false
    current = messages
    return true
  }

  for (let i = current.length - 1; i >= 0 && current.length > 1; i--) {
    if (await attempt(current.filter((_, j) => j !== i))) sources = sources.filter((_, j) => j !== i)
  }

  const differing: Difference[] = []
  const shrink = async (i: number, steps: Step[], depth: number): Promise<void> => {
    const seedRoot = failing.seed[i]
    const seedOwner = seedRoot && ownerAt(reflect(desc, clone(desc, seedRoot)), steps)
    const at = (messages: Message[]) => messages[i] ?? failing.messages[i]!
    const probe = ownerAt(reflect(desc, at(current)), steps)
    if (!probe) return
    for (const field of probe.fields) {
      const trial = current.map((m) => clone(desc, m))
      const owner = ownerAt(reflect(desc, at(trial)), steps)!
      if (seedOwner?.isSet(field)) owner.set(field, seedOwner.get(field))
      else owner.clear(field)
      if (sameBytes(desc, at(trial), at(current))) continue
      if (await attempt(trial)) continue
      // Still needed: look inside it for the part that matters.
      const nested = ownerAt(reflect(desc, at(current)), [...steps, { field }])
      // Well-known types (a Timestamp's seconds and nanos) are one value to the generator and the report.
      const opaque = field.fieldKind === 'message' && field.message.typeName.startsWith('google.protobuf.')
      if (depth < MAX_DEPTH && field.fieldKind === 'message' && !opaque && nested && seedOwner?.isSet(field)) {
        await shrink(i, [...steps, { field }], depth + 1)
      } else {
        differing.push({ position: i, source: sources[i]!, path: pathOf(steps, field) })
      }
    }
  }
  for (let i = 0; i < current.length; i++) await shrink(i, [], 0)
  return { minimal: withMessages(failing, current), differing }
}
