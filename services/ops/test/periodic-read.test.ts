import { describe, expect, it } from 'vitest'
import { createLogger } from '@brewmesh/runtime/logger'
import { startPeriodicRead } from '../src/periodic-read.ts'

const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const until = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5))
}

/** A read the test finishes by hand: each call waits until `answer` or `fail`. */
function handRead() {
  const pending: { resolve: (n: number) => void; reject: (err: Error) => void }[] = []
  let calls = 0
  return {
    read: () => (calls++, new Promise<number>((resolve, reject) => pending.push({ resolve, reject }))),
    get calls() {
      return calls
    },
    answer: (n: number) => pending.shift()!.resolve(n),
    fail: () => pending.shift()!.reject(new Error('broker away')),
  }
}

describe('periodic read', () => {
  it('when a read is in progress, then the state is the previous read and no second read starts', async () => {
    const broker = handRead()
    const reads = startPeriodicRead({ read: broker.read, intervalMs: 10, budgetMs: 60_000, log })
    try {
      expect(reads.state()).toEqual({ up: false, ageSeconds: undefined, value: undefined })
      await until(() => broker.calls === 1)
      broker.answer(1)
      await until(() => broker.calls === 2)

      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(broker.calls).toBe(2)
      expect(reads.state()).toMatchObject({ up: true, value: 1 })
      expect(reads.state().ageSeconds).toBeGreaterThan(0)
    } finally {
      reads.stop()
    }
  })

  it('when a read fails or overruns its budget, then the state is down and keeps the latest value', async () => {
    const broker = handRead()
    const reads = startPeriodicRead({ read: broker.read, intervalMs: 10, budgetMs: 200, log })
    try {
      await until(() => broker.calls === 1)
      broker.answer(1)
      await until(() => broker.calls === 2)
      broker.fail()
      await until(() => broker.calls === 3)
      expect(reads.state()).toMatchObject({ up: false, value: 1 })

      broker.answer(3)
      await until(() => broker.calls === 4)
      expect(reads.state()).toMatchObject({ up: true, value: 3 })
      await until(() => !reads.state().up)
      expect(reads.state()).toMatchObject({ up: false, value: 3 })
    } finally {
      reads.stop()
    }
  })
})
