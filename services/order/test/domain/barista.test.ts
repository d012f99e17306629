import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { answerId, sessionStep, type BaristaCommand } from '../../src/domain/barista.ts'

const ID = '5b0c1f7e-8a4d-4c2b-9e3f-1a2b3c4d5e6f'
const JOIN: BaristaCommand = { kind: 'join', baristaId: 'sam', displayName: 'Sam' }
const CLAIM: BaristaCommand = { kind: 'claim', orderId: '' }
const ADVANCE: BaristaCommand = { kind: 'advance', orderId: randomUUID(), expected: 'preparing' }
const RELEASE: BaristaCommand = { kind: 'release', orderId: randomUUID(), reason: 'end of shift' }
const REFRESH: BaristaCommand = { kind: 'refresh' }

const step = (joined: boolean, command: BaristaCommand | undefined, commandId = ID, violations: string[] = []) => {
  const s = sessionStep(joined, { commandId, command, violations })
  return s.do === 'reject' ? s.rejection : s.do
}

describe('the barista session: every state × every message', () => {
  it.each([
    // [joined, command, what happens]
    [false, JOIN, 'join'],
    [true, JOIN, 'already_joined'],
    [false, CLAIM, 'not_joined'],
    [false, ADVANCE, 'not_joined'],
    [false, RELEASE, 'not_joined'],
    [false, REFRESH, 'not_joined'],
    [true, CLAIM, 'run'],
    [true, ADVANCE, 'run'],
    [true, RELEASE, 'run'],
    [true, REFRESH, 'refresh'],
    [false, undefined, 'invalid_command'],
    [true, undefined, 'invalid_command'],
  ] as const)('joined %s, %j: %s', (joined, command, result) => {
    expect(step(joined, command)).toBe(result)
  })

  it.each([
    ['empty', ''],
    ['not a UUID', 'c-1'],
    ['64 KiB', 'x'.repeat(65_536)],
  ])('a command id that is %s is an invalid command, whatever the state, and is never echoed', (_, commandId) => {
    expect(step(false, JOIN, commandId)).toBe('invalid_command')
    expect(step(true, CLAIM, commandId)).toBe('invalid_command')
    expect(answerId(commandId)).toBe('')
  })

  it('a message breaking the contract is an invalid command naming the fields, not their values', () => {
    const s = sessionStep(true, { commandId: ID, command: RELEASE, violations: ['command_id', 'release.reason'] })
    expect(s).toEqual({ do: 'reject', rejection: 'invalid_command', message: expect.stringContaining('release.reason') as string })
  })

  it('a UUID command id is echoed as sent', () => {
    expect(answerId(ID.toUpperCase())).toBe(ID.toUpperCase())
  })
})
