import type { DescMethod } from '@bufbuild/protobuf'
import { buildCase, seedCase, seedMessages, type CaseContext, type FuzzCase } from './cases.ts'
import { takesStream, type MeshService } from './contract.ts'
import { minimize, type Difference } from './minimize.ts'
import { Random } from './random.ts'
import { signatureOf, type LogRecord, type ServiceLog } from './service-log.ts'
import type { CallLimits, CallResult, WireClient } from './wire-client.ts'
import { ROLES, type Role } from './world.ts'

/** One service under fuzz: how to call it, its log, and whether its process still runs. */
export interface Target {
  service: MeshService
  client: WireClient
  log: ServiceLog
  running(): boolean
}

export interface CampaignOptions extends CaseContext {
  callsPerService: number
  /** Only these indexes, per service (replaying reported cases); every index below callsPerService when unset. */
  only?: ReadonlyMap<string, readonly number[]>
  limits: CallLimits
  /** Progress lines on long runs. */
  progress?: (line: string) => void
}

/** A call that answered INTERNAL or UNKNOWN, hung, or accepted what it must refuse. */
export interface Failure {
  fuzzCase: FuzzCase
  result: CallResult
  /** The "unexpected error" the service logged for it. */
  log?: LogRecord
  /** Same service, method and cause (error type, message and first frame) as other failures. */
  key: string
}

export interface Minimized {
  minimal: FuzzCase
  differing: Difference[]
}

export interface CampaignResult {
  /** Calls per service, per outcome (a gRPC code name, or OPEN for a stream the fuzzer closed). */
  counts: Record<string, Record<string, number>>
  /** Per `service/Method`: the roles that got past authorization with the seed request. */
  roles: Record<string, Role[]>
  /** Per `service/Method`: how its seed request was answered, per role. */
  seedAnswers: Record<string, Partial<Record<Role, string>>>
  internal: Failure[]
  hangs: Failure[]
  /** Unary and server-streaming calls with invalid UTF-8 in a string field that were answered OK. */
  acceptedInvalidUtf8: Failure[]
  /** A process that exited, and the call that was the last one sent to it. */
  crashes: { service: string; lastCase: FuzzCase }[]
  /** Per failure key, the smallest request found that still fails (random cases only). */
  minimized: Map<string, Minimized>
}

const DENIED = new Set(['PERMISSION_DENIED', 'UNAUTHENTICATED'])
const isInternal = (r: CallResult) => r.code === 'INTERNAL' || r.code === 'UNKNOWN'
// An "unexpected error" line reaches the pipe a moment after the status reaches the client.
const LOG_WAIT_MS = 1000

const keyOf = (c: FuzzCase, r: CallResult, log: LogRecord | undefined) =>
  `${c.service}/${c.method.name}: ${log ? signatureOf(log).key : `${r.code} without a logged error: ${r.details}`}`

/**
 * Fuzzes every method of every target, the services side by side and each one call at a time (so
 * a logged error belongs to the call in flight). First each method's seed request is sent once per
 * role, to learn which roles get past authorization; then `callsPerService` cases go round-robin
 * over the methods, each as one of its allowed roles. Random cases that failed are minimized at
 * the end.
 */
export async function runCampaign(targets: readonly Target[], options: CampaignOptions): Promise<CampaignResult> {
  const result: CampaignResult = {
    counts: {},
    roles: {},
    seedAnswers: {},
    internal: [],
    hangs: [],
    acceptedInvalidUtf8: [],
    crashes: [],
    minimized: new Map(),
  }
  await Promise.all(targets.map((target) => fuzzService(target, options, result)))
  return result
}

async function fuzzService(target: Target, options: CampaignOptions, result: CampaignResult): Promise<void> {
  const { service, client, log } = target
  const counts: Record<string, number> = (result.counts[service.name] = {})
  const methods = service.desc.methods
  let crashed = false

  const send = async (fuzzCase: FuzzCase, count: boolean): Promise<{ result: CallResult; log?: LogRecord }> => {
    const mark = log.mark()
    const answer = await client.call(fuzzCase.method, fuzzCase.wire, options.world.tokens[fuzzCase.role], options.limits)
    if (count) counts[answer.code] = (counts[answer.code] ?? 0) + 1
    const logged = isInternal(answer) ? await log.unexpectedError(mark, fuzzCase.method.name, LOG_WAIT_MS) : undefined
    if (!target.running() && !crashed) {
      crashed = true
      result.crashes.push({ service: service.name, lastCase: fuzzCase })
    }
    return logged ? { result: answer, log: logged } : { result: answer }
  }

  const firstOfKind = new Map<string, Failure>()
  const judge = (fuzzCase: FuzzCase, answer: CallResult, logged: LogRecord | undefined) => {
    const failure: Failure = { fuzzCase, result: answer, key: keyOf(fuzzCase, answer, logged), ...(logged ? { log: logged } : {}) }
    if (isInternal(answer)) {
      result.internal.push(failure)
      if (!firstOfKind.has(failure.key)) firstOfKind.set(failure.key, failure)
    }
    if (answer.hung) result.hangs.push(failure)
    if (fuzzCase.origin === 'invalid-utf8' && !takesStream(fuzzCase.method) && (answer.code === 'OK' || answer.code === 'OPEN'))
      result.acceptedInvalidUtf8.push(failure)
  }

  // Which roles get past authorization, per method, from its valid request.
  const allowed = new Map<DescMethod, Role[]>()
  for (const method of methods) {
    const name = `${service.name}/${method.name}`
    const answers: Partial<Record<Role, string>> = (result.seedAnswers[name] = {})
    for (const role of ROLES) {
      if (crashed) return
      const rng = Random.of(`${options.seed}/${name}/probe/${role}`)
      const fuzzCase = seedCase(
        service.name,
        method,
        role,
        seedMessages(service.name, method, options.world.ids, () => rng.uuid()),
      )
      const sent = await send(fuzzCase, true)
      answers[role] = sent.result.code
      judge(fuzzCase, sent.result, sent.log)
    }
    const roles = ROLES.filter((role) => !DENIED.has(answers[role] ?? ''))
    allowed.set(method, roles.length > 0 ? roles : [...ROLES])
    result.roles[name] = allowed.get(method)!
  }

  const indexes = options.only ? (options.only.get(service.name) ?? []) : Array.from({ length: options.callsPerService }, (_, i) => i)
  for (const index of indexes) {
    if (crashed) break
    const method = methods[index % methods.length]!
    const fuzzCase = buildCase(options, service, method, index, allowed.get(method)!)
    const sent = await send(fuzzCase, true)
    judge(fuzzCase, sent.result, sent.log)
    if ((index + 1) % 500 === 0) options.progress?.(`${service.name}: ${index + 1}/${indexes.length} calls`)
  }

  // Random messages (whole cases, or one appended to a stream) change many fields at once: find
  // the ones that matter. A mutated field is already one.
  for (const [key, failure] of firstOfKind) {
    const { origin, change } = failure.fuzzCase
    if (crashed || !(origin === 'random' || (origin === 'mutation' && change?.path === ''))) continue
    const stillFails = async (candidate: FuzzCase) => {
      const again = await send(candidate, false)
      return isInternal(again.result) && keyOf(candidate, again.result, again.log) === key
    }
    result.minimized.set(key, await minimize(failure.fuzzCase, stillFails))
  }
}
