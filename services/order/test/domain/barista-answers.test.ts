import { describe, expect, it } from 'vitest'
import type { Actor } from '../../src/domain/order.ts'
import type { OrderTx } from '../../src/domain/ports.ts'
import { advanceOrder, claimOrder, releaseOrder } from '../../src/domain/orders.ts'
import { placedOrder } from './fixtures.ts'
import { MemoryStore } from './memory-store.ts'

const SAM: Actor = { kind: 'staff', id: 'sam', displayName: 'Sam' }
const ANSWER = new Uint8Array([1, 2, 3])
const paid = () => placedOrder({ status: 'paid', payment: { ...placedOrder().payment, status: 'approved' } })

/** The step a barista session runs in the transaction of a command's effect: save its answer. */
const saveAnswer =
  (commandId: string, fail = false) =>
  async (tx: OrderTx) => {
    expect(await tx.saveCommandAnswer(SAM.id, commandId, ANSWER)).toBe(true)
    if (fail) throw new Error('the commit failed')
  }

describe("a barista's answer is saved in the transaction of its effect", () => {
  it('when a claim commits, then the order is claimed, its events recorded and its answer saved, together', async () => {
    const memory = new MemoryStore([paid()])
    const order = await claimOrder(memory.deps(), SAM, paid().id, saveAnswer('c1'))
    expect(memory.orders.get(order.id)).toMatchObject({ status: 'preparing', baristaId: 'sam' })
    expect(memory.events.map((e) => e.kind)).toEqual(['assignment_changed', 'status_changed'])
    expect(memory.answers.get('sam/c1')).toEqual(ANSWER)
  })

  const held = () => ({ ...paid(), status: 'preparing' as const, baristaId: 'sam' })
  it.each([
    ['a claim', paid, (m: MemoryStore) => claimOrder(m.deps(), SAM, paid().id, saveAnswer('c2', true))],
    ['an advance', paid, (m: MemoryStore) => advanceOrder(m.deps(), SAM, paid().id, 'paid', { then: saveAnswer('c2', true) })],
    ['a release', held, (m: MemoryStore) => releaseOrder(m.deps(), SAM, paid().id, '', saveAnswer('c2', true))],
  ])('when %s fails after saving its answer, then neither the effect nor the answer remains', async (_, before, command) => {
    const start = before()
    const memory = new MemoryStore([start])
    await expect(command(memory)).rejects.toThrow('the commit failed')
    expect(memory.orders.get(start.id)).toEqual(start)
    expect(memory.events).toEqual([])
    expect(memory.answers.size).toBe(0)
  })

  it('when the command was answered on another stream meanwhile, then saving says so and the session rolls back', async () => {
    const memory = new MemoryStore([paid()])
    memory.answers.set('sam/c3', new Uint8Array([9]))
    const rolledBack = claimOrder(memory.deps(), SAM, paid().id, async (tx) => {
      if (!(await tx.saveCommandAnswer(SAM.id, 'c3', ANSWER))) throw new Error('answered elsewhere')
    })
    await expect(rolledBack).rejects.toThrow('answered elsewhere')
    expect(memory.orders.get(paid().id)?.baristaId).toBe('')
    expect(memory.answers.get('sam/c3')).toEqual(new Uint8Array([9]))
  })
})
