import { status as Code } from '@grpc/grpc-js'
import type { CallRecord } from './calls.ts'
import type { FaultWindow } from './faults.ts'
import type { Variant } from './load.ts'
import type { PhaseResult } from './phase.ts'

// The figures are reported, never asserted: on a shared 2-core machine they move from run to run.

const CODE_NAME = new Map(Object.entries(Code).flatMap(([name, value]) => (typeof value === 'number' ? [[value, name] as const] : [])))
const codeName = (code: Code) => CODE_NAME.get(code) ?? String(code)
const s = (ms: number) => (ms / 1000).toFixed(1)
/** An error's text without its numbers (deadlines, limits, addresses), so alike errors group together. */
const gist = (text: string) =>
  text
    .replace(/\d+(\.\d+)?/g, 'N')
    .replace(/,LB pick.*$/, '')
    .slice(0, 110)
const pct = (part: number, whole: number) => (whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(2)} %`)

/** Longest stretch inside the window without a successful placement (of `variants`), from the fault on. */
export function longestGap(calls: CallRecord[], w: FaultWindow, variants: readonly string[]): number {
  let previous = w.startedAt
  let longest = 0
  for (const c of calls) {
    if (c.kind !== 'place' || c.code !== Code.OK || c.at <= w.startedAt || c.at >= w.endedAt || !variants.includes(c.variant)) continue
    longest = Math.max(longest, c.at - previous)
    previous = c.at
  }
  return Math.max(longest, w.endedAt - previous)
}

const within = (calls: CallRecord[], from: number, to: number) => calls.filter((c) => c.at >= from && c.at < to)
const ALL: Variant[] = ['menu', 'usual', 'reward']

/** A table whose columns line up in a terminal and which is markdown as it stands. */
function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)]
}

function phaseFigures(p: PhaseResult): string[] {
  const out: string[] = [`## ${p.replicas === 1 ? 'One replica' : `${p.replicas} replicas`} of each service`, '']
  const placements = p.placements
  const by = (outcome: string) => placements.filter((x) => x.outcome === outcome)
  out.push(
    `Orders asked ${placements.length}: acknowledged ${by('acked').length}, refused ${by('refused').length}, ` +
      `given up after retrying ${by('gave-up').length}. Settled ${s(p.settleMs)} s after the load stopped.`,
  )
  const refusals = new Map<string, number>()
  for (const x of [...by('refused'), ...by('gave-up')]) {
    const key = `${x.outcome}, last answer ${gist(x.error!)}`
    refusals.set(key, (refusals.get(key) ?? 0) + 1)
  }
  for (const [key, n] of [...refusals].sort((a, b) => b[1] - a[1]).slice(0, 8)) out.push(`- not acknowledged ×${n}: ${key}`)
  out.push(`Start to SERVING when deployed, before any load: ${p.deployStarts.map((x) => `${x.replica} ${s(x.ms)} s`).join(', ')}.`, '')

  const kinds = ['place', 'advance', 'cancel', 'list'] as const
  out.push(
    ...table(
      ['calls', ...kinds, 'all'],
      [
        ['made', ...kinds.map((k) => String(p.calls.filter((c) => c.kind === k).length)), String(p.calls.length)],
        [
          'failed',
          ...kinds.map((k) => String(p.calls.filter((c) => c.kind === k && c.code !== Code.OK).length)),
          String(p.calls.filter((c) => c.code !== Code.OK).length),
        ],
      ],
    ),
    '',
  )

  const codes = [...new Set(p.calls.filter((c) => c.code !== Code.OK).map((c) => c.code))].sort((a, b) => a - b)
  const rows = p.windows.map((w) => {
    const calls = within(p.calls, w.startedAt, w.endedAt)
    const down = w.kind === 'warm-up' ? '' : s(w.restoredAt - w.startedAt)
    const needing = w.kind === 'warm-up' ? '' : s(longestGap(p.calls, w, w.needs))
    return [
      w.name,
      down,
      needing,
      s(longestGap(p.calls, w, ALL)),
      String(calls.length),
      ...codes.map((code) => String(calls.filter((c) => c.code === code).length)),
      w.recoveredAt === undefined ? 'no' : s(w.recoveredAt - w.restoredAt),
    ]
  })
  out.push(
    'Per fault (from its injection to the next one): how long it was down, the longest time without a successful placement ' +
      'among the placements that need what was taken away and among all, the calls and their failures by status code, ' +
      'and how long after it was back the mesh looked recovered.',
    '',
    ...table(['fault', 'down s', 'gap needing it s', 'gap any s', 'calls', ...codes.map(codeName), 'recovered after s'], rows),
    '',
  )
  for (const w of p.windows.filter((x) => x.notes.length > 0)) out.push(`- ${w.name}: ${w.notes.join('; ')}`)
  out.push('', 'What the failed calls said (most frequent first):', '')
  const said = new Map<string, number>()
  for (const c of p.calls.filter((x) => x.code !== Code.OK)) {
    const key = `${c.kind} ${codeName(c.code)}: ${gist(c.details)}`
    said.set(key, (said.get(key) ?? 0) + 1)
  }
  for (const [key, n] of [...said].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`- ×${n} ${key}`)
  out.push('')

  if (p.replicas > 1) {
    out.push(
      'Calls failed while a replica was down (from the kill or SIGTERM until it was SERVING again), against the warm-up; ' +
        '"not shed" leaves out RESOURCE_EXHAUSTED (admission control refusing at the front door):',
      '',
    )
    out.push(
      ...table(
        ['while', 'calls', 'failed', 'share', 'not shed', 'share', 'placements', 'failed', 'share'],
        p.windows
          .filter((w) => w.kind === 'warm-up' || w.kind === 'kill' || w.kind === 'sigterm')
          .map((w) => {
            const calls = within(p.calls, w.startedAt, w.kind === 'warm-up' ? w.endedAt : w.restoredAt)
            const failed = calls.filter((c) => c.code !== Code.OK)
            const notShed = failed.filter((c) => c.code !== Code.RESOURCE_EXHAUSTED).length
            const places = calls.filter((c) => c.kind === 'place')
            const placesFailed = places.filter((c) => c.code !== Code.OK).length
            return [
              w.kind === 'warm-up' ? 'warm-up (nothing down)' : w.name,
              String(calls.length),
              String(failed.length),
              pct(failed.length, calls.length),
              String(notShed),
              pct(notShed, calls.length),
              String(places.length),
              String(placesFailed),
              pct(placesFailed, places.length),
            ]
          }),
      ),
      '',
    )
  }
  out.push(...lagFigures(p), ...paymentFigures(p))
  return out
}

/** How long payments took, by the window the order was placed in: a payment job lost with Valkey shows as a long wait. */
function paymentFigures(p: PhaseResult): string[] {
  const rows = p.windows.map((w) => {
    const placed = p.payments.filter((x) => x.placedAt >= w.startedAt && x.placedAt < w.endedAt)
    const delays = placed.flatMap((x) => (x.delayMs === undefined ? [] : [x.delayMs]))
    return [
      w.name,
      String(placed.length),
      String(placed.length - delays.length),
      s(Math.max(0, ...delays)),
      String(delays.filter((d) => d > 10_000).length),
    ]
  })
  return [
    'Payments of the orders placed in each window: never answered, the longest wait for the answer, and how many waited over 10 s:',
    '',
    ...table(['placed during', 'orders', 'unanswered', 'longest s', 'over 10 s'], rows),
    '',
  ]
}

/** The durable groups' lag per window (largest seen, and the last sample in it), then who was left behind. */
function lagFigures(p: PhaseResult): string[] {
  const groups = [...new Set(p.lag.flatMap((x) => Object.keys(x.lag)))].sort()
  const stretches = [
    ...p.windows.map((w) => ({ name: w.name, from: w.startedAt, to: w.endedAt })),
    { name: 'settle', from: p.loadStoppedAt, to: p.loadStoppedAt + p.settleMs + 1 },
  ]
  const rows = stretches.map(({ name, from, to }) => {
    const samples = p.lag.filter((x) => x.at >= from && x.at < to)
    return [
      name,
      ...groups.flatMap((g) => [String(Math.max(0, ...samples.map((x) => x.lag[g] ?? 0))), String(samples.at(-1)?.lag[g] ?? '-')]),
    ]
  })
  const out = [
    'Durable consumer groups: lag (messages), the largest sampled in each stretch and its last sample (none while Kafka was down):',
    '',
    ...table(['stretch', ...groups.flatMap((g) => [`${g} max`, 'last'])], rows),
    '',
  ]
  const behind = Object.entries(p.groupsAtEnd).filter(([, n]) => n > 0)
  out.push(
    `Groups with lag once the phase settled (a per-replica group of a replica that is gone stays behind for good): ${behind.length === 0 ? 'none' : ''}`,
  )
  for (const [group, n] of behind.sort()) out.push(`- ${group}: ${n}`)
  out.push('')
  return out
}

function targets(phases: PhaseResult[]): string[] {
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED')
  const out = ['## Targets', '']
  for (const p of phases) {
    const broken = p.findings.filter((f) => f.violations.length > 0)
    out.push(
      `- ${p.replicas} replica(s), zero lost or doubled effects: ${verdict(broken.length === 0)}${broken.length ? ` (${broken.map((f) => f.check).join('; ')})` : ''}`,
    )
    const valkey = p.windows.find((w) => w.kind === 'valkey')
    if (valkey) {
      const late = within(p.calls, valkey.startedAt, valkey.endedAt).filter((c) => c.code === Code.DEADLINE_EXCEEDED)
      const kinds = [...new Set(late.map((c) => c.kind))].join(', ')
      out.push(
        `- ${p.replicas} replica(s), Valkey down, no DEADLINE_EXCEEDED: ${verdict(late.length === 0)} (${late.length}${kinds ? `: ${kinds}` : ''})`,
      )
    }
    for (const w of p.windows.filter((x) => x.kind === 'kill')) {
      if (p.replicas === 1) {
        const gap = longestGap(p.calls, w, w.needs)
        out.push(`- one replica, ${w.name}, no successful placement (needing it) for at most 6 s: ${verdict(gap <= 6000)} (${s(gap)} s)`)
      } else {
        const calls = within(p.calls, w.startedAt, w.restoredAt)
        const failed = calls.filter((c) => c.code !== Code.OK).length
        const notShed = calls.filter((c) => c.code !== Code.OK && c.code !== Code.RESOURCE_EXHAUSTED).length
        out.push(
          `- two replicas, ${w.name}, under 1 % of calls fail while it is down: ${verdict(failed < calls.length / 100)} ` +
            `(${pct(failed, calls.length)}; without RESOURCE_EXHAUSTED, the calls admission control shed: ${pct(notShed, calls.length)})`,
        )
      }
    }
  }
  return out
}

function invariants(phases: PhaseResult[]): string[] {
  const out = ['## Invariants', '']
  for (const p of phases) {
    for (const f of p.findings) {
      out.push(`- ${p.replicas} replica(s): ${f.check}: ${f.violations.length === 0 ? 'holds' : `${f.violations.length} violations`}`)
      for (const v of f.violations.slice(0, 5)) out.push(`    - ${v}`)
      if (f.violations.length > 5) out.push(`    - … ${f.violations.length - 5} more`)
    }
  }
  return out
}

/** The run's figures as markdown: per phase, then the issue's targets, then the invariants. */
export function figures(phases: PhaseResult[]): string {
  return ['# Fault suite figures', '', ...phases.flatMap(phaseFigures), ...targets(phases), '', ...invariants(phases), ''].join('\n')
}
