import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { runCampaign, type CampaignResult } from '../src/fuzz/campaign.ts'
import { brokenInvariants, servingStatus } from '../src/fuzz/invariants.ts'
import { startMeshUnderFuzz, type MeshUnderFuzz } from '../src/fuzz/mesh-under-fuzz.ts'
import { fuzzOptions } from '../src/fuzz/options.ts'
import { findingsOf, formatCrash, formatFindings, formatSummary, type Finding } from '../src/fuzz/report.ts'
import { signatureOf } from '../src/fuzz/service-log.ts'
import { buildWorld } from '../src/fuzz/world.ts'
import { testIssuer } from '../src/tokens.ts'

// The fuzz test: every RPC of every service in the descriptor set gets random and mutated
// well-typed requests (and a few with invalid UTF-8 on the wire) from callers of every role, on
// the mesh as four processes. A fixed seed by default, so a run repeats; FUZZ_SEED, FUZZ_CALLS,
// FUZZ_ONLY and FUZZ_REPORT change it (services/testkit/src/fuzz/options.ts).

const options = fuzzOptions()
const limits = { deadlineMs: 5000, streamMs: 1000, streamMessages: 3, streamIdleMs: 250 }
let fuzz: MeshUnderFuzz | undefined
let result: CampaignResult
let findings: Finding[]
/** Where each service's log stood when fuzzing began: start-up noise is not the fuzzer's. */
let marks: number[] = []

const log = (text: string) => process.stdout.write(`${text}\n`)
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1)

beforeAll(
  async () => {
    const issuer = await testIssuer()
    let started = Date.now()
    fuzz = await startMeshUnderFuzz(inject('infra').env, issuer)
    log(`[fuzz] the mesh started in ${seconds(started)} s`)
    started = Date.now()
    const world = await buildWorld(fuzz.rpc, issuer)
    log(`[fuzz] the world built in ${seconds(started)} s`)
    marks = fuzz.targets.map((t) => t.log.mark())
    started = Date.now()
    result = await runCampaign(fuzz.targets, {
      seed: options.seed,
      world,
      now: Date.now(),
      callsPerService: options.callsPerService,
      limits,
      ...(options.only ? { only: options.only } : {}),
      progress: (line) => log(`[fuzz] ${line}`),
    })
    findings = findingsOf(result, options.seed)
    const budget = options.only ? `the cases FUZZ_ONLY names` : `${options.callsPerService} fuzzed calls per service`
    const header = `[fuzz] seed ${options.seed}, ${budget} (plus seed probes), ${seconds(started)} s`
    log(formatSummary(result, header))
    if (findings.length > 0) log(`\n[fuzz] ${findings.length} findings:\n\n${formatFindings(findings)}\n`)
    for (const crash of result.crashes)
      log(formatCrash(options.seed, crash, fuzz.mesh.processes[crash.service as keyof typeof fuzz.mesh.processes].output()))
    const background = backgroundErrors(fuzz)
    if (background.length > 0) log(`[fuzz] errors logged outside any fuzzed call:\n${background.join('\n')}`)
    if (options.reportFile)
      writeFileSync(
        options.reportFile,
        JSON.stringify({ seed: options.seed, counts: result.counts, roles: result.roles, findings, background }, null, 2),
      )
  },
  180_000 + options.callsPerService * 1000,
)

afterAll(async () => {
  if (!fuzz) return
  const started = Date.now()
  await fuzz.close()
  log(`[fuzz] the mesh stopped in ${seconds(started)} s`)
})

/** Errors the services logged that no call was matched with (consumers, jobs), counted by cause. */
function backgroundErrors(mesh: MeshUnderFuzz): string[] {
  const counts = new Map<string, number>()
  for (const [i, target] of mesh.targets.entries())
    for (const record of target.log.unclaimedErrors(marks[i])) {
      const key = `${target.service.name}: ${record.err ? signatureOf(record).text : record.msg.slice(0, 300)}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
  return [...counts].map(([key, n]) => `  x${n} ${key}`)
}

const titles = (kind: Finding['kind']) =>
  findings.filter((f) => f.kind === kind).map((f) => `${f.service}/${f.method} x${f.count}: ${f.cause}`)

describe('the mesh, fuzzed with well-typed requests from callers of every role', () => {
  it('answers no call INTERNAL or UNKNOWN', () => {
    expect(titles('INTERNAL/UNKNOWN')).toEqual([])
  })

  it('answers every unary and client-streaming call before its deadline', () => {
    expect(titles('hang')).toEqual([])
  })

  it('refuses invalid UTF-8 in a string field of every unary and server-streaming request', () => {
    expect(titles('accepted invalid UTF-8')).toEqual([])
  })

  it('keeps every service process running', () => {
    expect(result.crashes.map((c) => `${c.service} exited after ${c.lastCase.service}/${c.lastCase.method.name}`)).toEqual([])
  })

  it('leaves every service SERVING', async () => {
    const statuses = await Promise.all(
      fuzz!.services.map(async (s) => [s.desc.typeName, await servingStatus(fuzz!.mesh.ports[s.name as 'customer'], s.desc.typeName)]),
    )
    expect(Object.fromEntries(statuses)).toEqual(Object.fromEntries(fuzz!.services.map((s) => [s.desc.typeName, 'SERVING'])))
  })

  it("leaves the services' data consistent", async () => {
    expect(await brokenInvariants(fuzz!.mesh.envs)).toEqual([])
  })
})
