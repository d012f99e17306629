import type { DescMethod } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { runCampaign, type Target } from '../src/fuzz/campaign.ts'
import { meshServices } from '../src/fuzz/contract.ts'
import { findingsOf } from '../src/fuzz/report.ts'
import { ServiceLog } from '../src/fuzz/service-log.ts'
import type { CallLimits, CallResult } from '../src/fuzz/wire-client.ts'
import { NOW, world } from './fuzz-fixtures.ts'

// The campaign's judgement without servers: a fake Loyalty service that answers some methods
// INTERNAL (logging the error as the services do), hangs on one, accepts everything else, refuses
// the barista, and exits after a number of calls.

const loyalty = meshServices().find((s) => s.name === 'loyalty')!
const limits: CallLimits = { deadlineMs: 5000, streamMs: 1000, streamMessages: 3, streamIdleMs: 250 }
const answer = (code: CallResult['code'], hung = false): CallResult => ({ code, details: '', responses: 0, ms: 1, hung })

function fakeLoyalty(options: { exitAfter?: number } = {}): Target & { calls: number } {
  const log = new ServiceLog()
  const target = {
    service: loyalty,
    log,
    calls: 0,
    running: () => options.exitAfter === undefined || target.calls < options.exitAfter,
    client: {
      async call(method: DescMethod, _requests: readonly Uint8Array[], token: string): Promise<CallResult> {
        target.calls++
        if (token === world.tokens.barista) return answer('PERMISSION_DENIED')
        if (method.name === 'GetAccount') {
          // Written in two chunks, split inside the line, as a pipe may deliver it.
          const line = JSON.stringify({
            level: 'error',
            method: 'GetAccount',
            err: {
              type: 'DatabaseError',
              code: '22021',
              message: `bad byte ${target.calls}`,
              stack: 'at read (/r/services/loyalty/src/db/store.ts:12:3)',
            },
            msg: 'unexpected error',
          })
          log.write(line.slice(0, 40))
          setTimeout(() => log.write(`${line.slice(40)}\n`), 20)
          return answer('INTERNAL')
        }
        if (method.name === 'AdjustPoints') return answer('DEADLINE_EXCEEDED', true)
        return answer('OK')
      },
      unary: () => Promise.reject(new Error('not used')),
      close: () => undefined,
    },
  }
  return target
}

const options = { seed: 'judge', world, now: NOW, callsPerService: 200, limits }

describe('the fuzz campaign', () => {
  it('reports INTERNAL answers with the error the service logged, once per cause', async () => {
    const result = await runCampaign([fakeLoyalty()], options)
    const internal = findingsOf(result, 'judge').filter((f) => f.kind === 'INTERNAL/UNKNOWN')
    expect(internal.map((f) => [f.method, f.cause])).toEqual([
      ['GetAccount', 'DatabaseError 22021: bad byte 1 @ services/loyalty/src/db/store.ts:12'],
    ])
    expect(internal[0]!.count).toBe(result.internal.length)
    expect(result.internal.length).toBeGreaterThan(10)
  })

  it('reports calls that reach their deadline as hangs, and invalid UTF-8 answered OK', async () => {
    const result = await runCampaign([fakeLoyalty()], options)
    expect(new Set(result.hangs.map((h) => h.fuzzCase.method.name))).toEqual(new Set(['AdjustPoints']))
    const accepted = result.acceptedInvalidUtf8.map((f) => f.fuzzCase)
    expect(accepted.length).toBeGreaterThan(0)
    expect(accepted.every((c) => c.origin === 'invalid-utf8' && c.method.methodKind !== 'client_streaming')).toBe(true)
  })

  it('sends each method only as the roles its seed request got past authorization with', async () => {
    const target = fakeLoyalty()
    const result = await runCampaign([target], options)
    expect(Object.values(result.roles).every((roles) => !roles.includes('barista'))).toBe(true)
    expect(target.calls).toBe(loyalty.desc.methods.length * 6 + 200)
  })

  it('stops at a crash and names the call sent last', async () => {
    const result = await runCampaign([fakeLoyalty({ exitAfter: 70 })], options)
    expect(result.crashes.map((c) => c.service)).toEqual(['loyalty'])
    expect(result.counts['loyalty']).toBeDefined()
    expect(Object.values(result.counts['loyalty']!).reduce((a, b) => a + b, 0)).toBe(70)
  })
})
