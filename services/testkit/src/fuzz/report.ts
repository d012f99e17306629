import type { CampaignResult, Failure, Minimized } from './campaign.ts'
import type { FuzzCase } from './cases.ts'
import { callKind, takesStream } from './contract.ts'
import { requestJson } from './render.ts'
import { ownFrames, signatureOf } from './service-log.ts'

/** One distinct failure: every call with the same service, method and cause, described once. */
export interface Finding {
  kind: 'INTERNAL/UNKNOWN' | 'hang' | 'accepted invalid UTF-8'
  service: string
  method: string
  callKind: string
  count: number
  /** The server's error: type, message, first frame in services/ (from its log). */
  cause: string
  /** The error's stack frames in services/ source. */
  stack: string[]
  /** What the requests had in common with their seeds' differences, e.g. "display_name: NUL character". */
  triggers: string[]
  /** How to send the first one again: the seed, index and role. */
  repro: string
  request: string
}

const MAX_TRIGGERS = 6

/** What the case changed from its seed, in words. */
function triggerOf(fuzzCase: FuzzCase, minimized?: Minimized): string {
  const at = (message: number) => (takesStream(fuzzCase.method) ? `message ${message}: ` : '')
  // What still differs from the seed after minimizing, with the kind of value generated there.
  const differing = minimized?.differing.map((d) => {
    const label = fuzzCase.labels[d.source]?.get(d.path) ?? labelUnder(fuzzCase.labels[d.source], d.path) ?? 'a random value'
    return `${at(d.position)}${d.path}: ${label}`
  })
  switch (fuzzCase.origin) {
    case 'seed':
      return 'the valid seed request itself'
    case 'invalid-utf8':
    case 'mutation': {
      const change = fuzzCase.change!
      if (change.path !== '') return `${at(change.message)}${change.path}: ${change.label}`
      return differing && differing.length > 0 ? `the stream: ${change.label}; ${differing.join('; ')}` : `the stream: ${change.label}`
    }
    case 'random':
      if (!differing) return 'a random message'
      if (differing.length === 0) return 'a random message (no single field found: fails from the seed values too)'
      return differing.join('; ')
  }
}

function labelUnder(labels: Map<string, string> | undefined, path: string): string | undefined {
  if (!labels) return undefined
  const inside = [...labels].filter(([p]) => p.startsWith(`${path}.`) || p.startsWith(`${path}[`))
  return inside.length > 0 ? inside.map(([p, l]) => `${p}=${l}`).join(', ') : undefined
}

function reproOf(seed: string, fuzzCase: FuzzCase): string {
  const index = fuzzCase.index < 0 ? 'the seed probe' : `FUZZ_ONLY=${fuzzCase.service}:${fuzzCase.index}`
  return `FUZZ_SEED=${seed} ${index}, as ${fuzzCase.role} (${fuzzCase.origin})`
}

function group(failures: readonly Failure[], key: (f: Failure) => string): Failure[][] {
  const groups = new Map<string, Failure[]>()
  for (const f of failures) groups.set(key(f), [...(groups.get(key(f)) ?? []), f])
  return [...groups.values()]
}

function findingOf(kind: Finding['kind'], failures: Failure[], seed: string, result: CampaignResult): Finding {
  const first = failures[0]!
  const { method } = first.fuzzCase
  const minimized = result.minimized.get(first.key)
  const triggers = [...new Set(failures.map((f) => triggerOf(f.fuzzCase, f === first ? minimized : undefined)))]
  const shown = minimized?.minimal ?? first.fuzzCase
  return {
    kind,
    service: first.fuzzCase.service,
    method: method.name,
    callKind: callKind(method),
    count: failures.length,
    cause: first.log ? signatureOf(first.log).text : `${first.result.code}: ${first.result.details}`,
    stack: ownFrames(first.log?.err?.stack ?? '').slice(0, 8),
    triggers:
      triggers.length > MAX_TRIGGERS ? [...triggers.slice(0, MAX_TRIGGERS), `…and ${triggers.length - MAX_TRIGGERS} more`] : triggers,
    repro: reproOf(seed, first.fuzzCase),
    request: requestJson(method.input, shown.messages, takesStream(method)),
  }
}

/** Failures grouped into findings: INTERNAL/UNKNOWN by cause, hangs and accepted invalid UTF-8 by method. */
export function findingsOf(result: CampaignResult, seed: string): Finding[] {
  const byMethod = (f: Failure) => `${f.fuzzCase.service}/${f.fuzzCase.method.name}`
  return [
    ...group(result.internal, (f) => f.key).map((g) => findingOf('INTERNAL/UNKNOWN', g, seed, result)),
    ...group(result.hangs, byMethod).map((g) => findingOf('hang', g, seed, result)),
    ...group(result.acceptedInvalidUtf8, byMethod).map((g) => findingOf('accepted invalid UTF-8', g, seed, result)),
  ].sort((a, b) => `${a.service}/${a.method}`.localeCompare(`${b.service}/${b.method}`))
}

/** The findings as text: one block each, with what caused it, what triggers it and how to send it again. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings
    .map((f) =>
      [
        `${f.kind} x${f.count}  ${f.service}/${f.method} (${f.callKind})`,
        `  cause:   ${f.cause}`,
        ...f.triggers.map((t, i) => `  ${i === 0 ? 'trigger:' : '        '} ${t}`),
        `  repro:   ${f.repro}`,
        `  request: ${f.request}`,
      ].join('\n'),
    )
    .join('\n\n')
}

/** A process that exited: the call it got last (what most likely killed it) and the end of its output. */
export function formatCrash(seed: string, crash: CampaignResult['crashes'][number], output: string): string {
  const { lastCase } = crash
  return [
    `crash: the ${crash.service} process exited`,
    `  last call: ${lastCase.service}/${lastCase.method.name}, ${triggerOf(lastCase)}`,
    `  repro:     ${reproOf(seed, lastCase)}`,
    `  request:   ${requestJson(lastCase.method.input, lastCase.messages, takesStream(lastCase.method))}`,
    `  output:\n${output.slice(-3000)}`,
  ].join('\n')
}

/** Calls per service and per outcome, one line per service. */
export function formatSummary(result: CampaignResult, header: string): string {
  const lines = Object.entries(result.counts).map(([service, counts]) => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0)
    const codes = Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ')
    return `  ${service.padEnd(10)} ${String(total).padStart(6)} calls: ${codes}`
  })
  const seedsRefused = Object.entries(result.seedAnswers)
    .filter(([, answers]) => !Object.values(answers).some((code) => code === 'OK' || code === 'OPEN'))
    .map(([method, answers]) => `${method} (${[...new Set(Object.values(answers))].join(', ')})`)
  return [
    header,
    ...lines,
    ...(seedsRefused.length > 0 ? [`  seed requests no role got OK for (they reach less code): ${seedsRefused.join('; ')}`] : []),
  ].join('\n')
}
