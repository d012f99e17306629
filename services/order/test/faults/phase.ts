import { status as Code } from '@grpc/grpc-js'
import { sqlQuery } from '@brewmesh/testkit/env.ts'
import type { PrivateKafka } from '@brewmesh/testkit/private-kafka.ts'
import type { PrivateValkey } from '@brewmesh/testkit/private-valkey.ts'
import { Barista } from './barista.ts'
import { CallLog, type CallRecord } from './calls.ts'
import { connect } from './clients.ts'
import { faultPlan, type FaultWindow } from './faults.ts'
import { checkInvariants, type CheckInput, type Finding } from './invariants.ts'
import { lagOfEveryGroup, sampleLag, type LagSample } from './lag.ts'
import { OrderLoad, type Placement, type Variant } from './load.ts'
import { SERVICES, type Mesh, type Service } from './mesh.ts'
import type { Settings } from './settings.ts'
import { createWorld } from './world.ts'

/** What a phase shares with the rest of the run: the mesh, its private servers, the staff token. */
export interface PhaseContext {
  mesh: Mesh
  kafka: PrivateKafka
  valkey: PrivateValkey
  envs: Record<Service, Record<string, string>>
  topicSuffix: string
  staffToken: string
  settings: Settings
}

export interface PhaseResult {
  replicas: number
  calls: CallRecord[]
  windows: FaultWindow[]
  placements: Placement[]
  findings: Finding[]
  loadStoppedAt: number
  /** From the end of the load until the invariants held (or the bound passed). */
  settleMs: number
  /** The durable groups' lag, sampled through the phase. */
  lag: LagSample[]
  /** Every consumer group's lag once the phase settled, per-replica groups included. */
  groupsAtEnd: Record<string, number>
  /** How long each replica took to answer SERVING when the phase deployed it, before any load. */
  deployStarts: { replica: string; ms: number }[]
  /** Each order's placement time and how long its payment took to be answered (undefined: never). */
  payments: { placedAt: number; delayMs: number | undefined }[]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** A line of progress on the run's output: a phase is minutes long, and CI shows where it stands. */
const progress = (replicas: number, what: string) =>
  process.stdout.write(`[faults] ${new Date().toISOString().slice(11, 19)} ${replicas} replica(s): ${what}\n`)

/**
 * One phase: `replicas` of every service, a world of their own, the load and the barista running
 * while every fault of the plan is injected in turn; then the load stops, the mesh settles, and
 * the invariants are checked (polled until they hold or the settle bound passes).
 */
export async function runPhase(ctx: PhaseContext, replicas: number): Promise<PhaseResult> {
  const { mesh, settings: s } = ctx
  const deployedAt = Date.now()
  progress(replicas, 'deploying')
  await mesh.deploy(replicas, `g${replicas}`)
  const deployStarts = mesh.starts.filter((x) => x.at >= deployedAt)
  const clients = connect(
    {
      customer: mesh.target('customer'),
      favorites: mesh.target('favorites'),
      loyalty: mesh.target('loyalty'),
      order: mesh.target('order'),
    },
    ctx.staffToken,
  )
  try {
    const world = await createWorld(clients, s.households)
    const log = new CallLog()
    const load = new OrderLoad(clients.orders, world, log, {
      ratePerSecond: s.ratePerSecond,
      giveUpMs: s.giveUpMs,
      cancelShare: s.customerCancelShare,
    })
    const barista = new Barista(clients.orders, log, s.baristaCancelShare)
    const windows: FaultWindow[] = []
    const open = (name: string, kind: FaultWindow['kind'], needs: Variant[]) => {
      const now = Date.now()
      const previous = windows.at(-1)
      if (previous) previous.endedAt = now
      const w: FaultWindow = { name, kind, needs, startedAt: now, restoredAt: now, recoveredAt: now, endedAt: now, notes: [] }
      windows.push(w)
      progress(replicas, name)
      return w
    }

    const lag = sampleLag(ctx.kafka.brokers, ctx.topicSuffix)
    load.start()
    barista.start()
    open('warm-up', 'warm-up', [])
    await sleep(s.warmupMs)
    for (const fault of faultPlan(mesh, ctx.kafka, ctx.valkey, s)) {
      const w = open(fault.name, fault.kind, fault.needs)
      await fault.inject((line) => w.notes.push(line))
      w.restoredAt = Date.now()
      w.recoveredAt = await recovered(ctx, log, w)
      await sleep(s.calmMs)
    }
    progress(replicas, 'load stopping, then the invariants')
    await load.stop(s.drainMs)
    const loadStoppedAt = Date.now()
    windows.at(-1)!.endedAt = loadStoppedAt

    const input: CheckInput = {
      placements: load.placements,
      customerIds: world.members.map((m) => m.id),
      envs: ctx.envs,
      brokers: ctx.kafka.brokers,
      topicSuffix: ctx.topicSuffix,
      mesh,
      clients,
    }
    let findings = await check(input)
    while (findings.some((f) => f.violations.length > 0) && Date.now() - loadStoppedAt < s.settleMs) {
      await sleep(3000)
      findings = await check(input)
    }
    const settleMs = Date.now() - loadStoppedAt
    progress(
      replicas,
      `settled in ${(settleMs / 1000).toFixed(0)} s${findings.some((f) => f.violations.length > 0) ? ' (some invariants do not hold)' : ''}`,
    )
    await barista.stop()
    await lag.stop()
    const groupsAtEnd = await lagOfEveryGroup(ctx.kafka.brokers).catch(() => ({}))
    const payments = await paymentDelays(ctx.envs.order, input.customerIds)
    return {
      replicas,
      calls: log.calls,
      windows,
      placements: load.placements,
      findings,
      loadStoppedAt,
      settleMs,
      lag: lag.samples,
      groupsAtEnd,
      deployStarts,
      payments,
    }
  } finally {
    clients.close()
  }
}

/** The invariants; a check that cannot run yet (a replica not answering) is a finding, not a crash. */
async function check(input: CheckInput): Promise<Finding[]> {
  try {
    return await checkInvariants(input)
  } catch (err) {
    return [{ check: 'the checks ran', violations: [(err as Error).message] }]
  }
}

/**
 * Waits (bounded) until the mesh looks recovered from the fault: every replica SERVING, each kind
 * of placement the fault affected succeeded since it was restored, and no outbox row has waited
 * longer than 5 s. Answers when, or undefined (with a note of what was still missing).
 */
async function recovered(ctx: PhaseContext, log: CallLog, w: FaultWindow): Promise<number | undefined> {
  const deadline = Date.now() + ctx.settings.recoveryBoundMs
  let missing: string[] = []
  while (Date.now() < deadline) {
    missing = [...(await ctx.mesh.notServing()).map((name) => `${name} not SERVING`)]
    const since = placedSince(log.calls, w.restoredAt)
    for (const variant of w.needs) if (!since.has(variant)) missing.push(`no ${variant} placement succeeded`)
    for (const service of SERVICES) {
      const [row] = await sqlQuery<{ n: number }>(
        ctx.envs[service],
        "select count(*)::int as n from outbox where published_at is null and created_at < now() - interval '5 seconds'",
      ).catch(() => [{ n: -1 }])
      if (row!.n !== 0) missing.push(`${service} outbox: ${row!.n} rows waiting over 5 s`)
    }
    if (missing.length === 0) return Date.now()
    await sleep(1000)
  }
  w.notes.push(`not recovered within ${ctx.settings.recoveryBoundMs / 1000} s: ${missing.join('; ')}`)
  return undefined
}

/** When each order was placed and how long the mock processor took to answer (a lost payment job shows here). */
async function paymentDelays(env: Record<string, string>, customerIds: string[]): Promise<PhaseResult['payments']> {
  const rows = await sqlQuery<{ placed_at: Date; processed_at: string | null }>(
    env,
    "select placed_at, doc->'payment'->>'processedAt' as processed_at from orders where customer_id = any($1::uuid[])",
    [customerIds],
  )
  return rows.map((r) => ({
    placedAt: r.placed_at.getTime(),
    delayMs: r.processed_at ? new Date(r.processed_at).getTime() - r.placed_at.getTime() : undefined,
  }))
}

/** The kinds of placement that succeeded at or after `since`. */
function placedSince(calls: CallRecord[], since: number): Set<string> {
  const kinds = new Set<string>()
  for (let i = calls.length - 1; i >= 0 && calls[i]!.at >= since; i--) {
    const c = calls[i]!
    if (c.kind === 'place' && c.code === Code.OK) kinds.add(c.variant)
  }
  return kinds
}
