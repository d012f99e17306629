import { clone, fromJson, toBinary, type DescMethod, type Message } from '@bufbuild/protobuf'
import { takesStream, type MeshService } from './contract.ts'
import { randomMessage, type GenerateContext } from './generate.ts'
import { withInvalidUtf8 } from './invalid-utf8.ts'
import { mutateSequence, type Change } from './mutate.ts'
import { Random } from './random.ts'
import { SEEDS } from './seeds.ts'
import type { Role, World, WorldIds } from './world.ts'

/** How a case was made: a seed as is, a seed with one change, a random message, or a seed with invalid UTF-8 on the wire. */
export type Origin = 'seed' | 'mutation' | 'random' | 'invalid-utf8'

/** One fuzzed call: who sends what to which method, and how it was made (to report and replay it). */
export interface FuzzCase {
  service: string
  method: DescMethod
  /** The call's index in its service's run; with the run's seed it regenerates the case. */
  index: number
  role: Role
  origin: Origin
  /** The request messages (for the report; for invalid-utf8, before the bytes were broken). */
  messages: Message[]
  /** Exactly what is sent, one buffer per request message. */
  wire: Uint8Array[]
  /** For mutation and invalid-utf8: what differs from the seed. */
  change?: Change
  /** Per message, the kind of value generated at each field path (random values, mutated fields). */
  labels: Map<string, string>[]
  /** The valid request(s) the case started from. */
  seed: Message[]
}

export interface CaseContext {
  /** The run's seed (FUZZ_SEED). */
  seed: string
  world: World
  /** Milliseconds since the epoch that generated timestamps are around. */
  now: number
}

/** The seed requests of a method as messages (`fresh` makes the UUIDs they need). */
export function seedMessages(service: string, method: DescMethod, ids: WorldIds, fresh: () => string): Message[] {
  const seed = SEEDS[`${service}/${method.name}`]
  if (!seed) throw new Error(`no seed request for ${service}/${method.name}: add one to fuzz/seeds.ts`)
  return seed(ids, fresh).map((json) => fromJson(method.input, json))
}

const encode = (method: DescMethod, messages: readonly Message[]) => messages.map((m) => toBinary(method.input, m))

/** The case of one index: the same seed, service and index always give the same case (for the same world). */
export function buildCase(context: CaseContext, service: MeshService, method: DescMethod, index: number, roles: readonly Role[]): FuzzCase {
  const rng = Random.of(`${context.seed}/${service.name}/${index}`)
  const role = rng.pick(roles)
  const seed = seedMessages(service.name, method, context.world.ids, () => rng.uuid())
  const generate: GenerateContext = { rng, pool: context.world.pool, now: context.now }
  const base = { service: service.name, method, index, role, seed, labels: [] }
  const origin = rng.weighted<Origin>([
    [60, 'mutation'],
    [22, 'random'],
    [10, 'invalid-utf8'],
    [8, 'seed'],
  ])
  if (origin === 'seed') return { ...base, origin, messages: seed, wire: encode(method, seed) }
  if (origin === 'random') {
    const count = takesStream(method) ? rng.between(0, 4) : 1
    const generated = Array.from({ length: count }, () => randomMessage(generate, method.input))
    const messages = generated.map((g) => g.message)
    return { ...base, origin, messages, wire: encode(method, messages), labels: generated.map((g) => g.labels) }
  }
  if (origin === 'invalid-utf8' && seed[0]) {
    const broken = withInvalidUtf8(rng, method.input, seed[0])
    if (broken) {
      const messages = [broken.message, ...seed.slice(1)]
      return {
        ...base,
        origin,
        messages,
        wire: [broken.wire, ...encode(method, seed.slice(1))],
        change: { message: 0, path: broken.path, label: broken.label },
      }
    }
  }
  const mutated = mutateSequence(generate, method.input, takesStream(method) ? seed : seed.slice(0, 1))
  return {
    ...base,
    origin: 'mutation',
    messages: mutated.messages,
    wire: encode(method, mutated.messages),
    change: mutated.change,
    labels: mutated.labels,
  }
}

/** A method's valid request(s) as they are, sent as `role` (to learn which roles pass authorization). */
export function seedCase(service: string, method: DescMethod, role: Role, seed: Message[]): FuzzCase {
  return { service, method, index: -1, role, origin: 'seed', messages: seed, wire: encode(method, seed), labels: [], seed }
}

/** The same case with other messages (minimizing), re-encoded. */
export function withMessages(fuzzCase: FuzzCase, messages: readonly Message[]): FuzzCase {
  const copies = messages.map((m) => clone(fuzzCase.method.input, m))
  return { ...fuzzCase, messages: copies, wire: encode(fuzzCase.method, copies) }
}
