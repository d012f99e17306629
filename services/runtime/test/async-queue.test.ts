import { describe, expect, it } from 'vitest'
import { AsyncQueue, QueueOverflow } from '../src/streams/async-queue.ts'

async function drain<T>(queue: AsyncQueue<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of queue) out.push(item)
  return out
}

describe('AsyncQueue', () => {
  it('when items are pushed before reading, then they are read in push order', async () => {
    const queue = new AsyncQueue<number>(10)
    expect([queue.push(1), queue.push(2), queue.push(3)]).toEqual([true, true, true])
    queue.close()
    expect(await drain(queue)).toEqual([1, 2, 3])
  })

  it('when the reader waits first, then items pushed later are delivered in order', async () => {
    const queue = new AsyncQueue<string>(10)
    const reading = drain(queue)
    await Promise.resolve()
    queue.push('a')
    await new Promise((resolve) => setTimeout(resolve, 0))
    queue.push('b')
    queue.push('c')
    queue.close()
    expect(await reading).toEqual(['a', 'b', 'c'])
  })

  it('when closed, then iteration ends after the queued items and later pushes are refused', async () => {
    const queue = new AsyncQueue<number>(10)
    queue.push(1)
    queue.push(2)
    queue.close()
    expect(queue.push(3)).toBe(false)
    expect(await drain(queue)).toEqual([1, 2])
  })

  it('when closed while the reader waits, then iteration ends', async () => {
    const queue = new AsyncQueue<number>(10)
    const reading = drain(queue)
    await Promise.resolve()
    queue.close()
    expect(await reading).toEqual([])
  })

  it('when closed with an error, then iteration throws it', async () => {
    const queue = new AsyncQueue<number>(10)
    queue.push(1)
    queue.close(new Error('upstream failed'))
    await expect(drain(queue)).rejects.toThrow('upstream failed')
  })

  it('when more items are pushed than the limit, then the push is refused and iteration fails with QueueOverflow', async () => {
    const queue = new AsyncQueue<number>(2)
    expect(queue.push(1)).toBe(true)
    expect(queue.push(2)).toBe(true)
    expect(queue.push(3)).toBe(false)
    expect(queue.push(4)).toBe(false)
    const err = await drain(queue).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(QueueOverflow)
    expect((err as Error).name).toBe('QueueOverflow')
    expect((err as Error).message).toContain('more than 2 messages waiting')
  })

  it('when the reader keeps up, then the limit bounds only what is waiting', async () => {
    const queue = new AsyncQueue<number>(1)
    const seen: number[] = []
    const iterator = queue[Symbol.asyncIterator]()
    for (const n of [1, 2, 3]) {
      expect(queue.push(n)).toBe(true)
      const next = await iterator.next()
      seen.push(next.value as number)
    }
    expect(seen).toEqual([1, 2, 3])
  })

  it('when the overflow error was already set, then a later close does not replace it', async () => {
    const queue = new AsyncQueue<number>(1)
    queue.push(1)
    queue.push(2)
    queue.close(new Error('other'))
    await expect(drain(queue)).rejects.toBeInstanceOf(QueueOverflow)
  })

  it('when the signal aborts while the reader waits, then iteration ends and pushes are refused', async () => {
    const controller = new AbortController()
    const queue = new AsyncQueue<number>(10, controller.signal)
    const reading = drain(queue)
    queue.push(1)
    await new Promise((resolve) => setTimeout(resolve, 0))
    controller.abort()
    expect(await reading).toEqual([1])
    expect(queue.push(2)).toBe(false)
  })

  it('when the signal was aborted before reading, then iteration ends once the queue is empty', async () => {
    const controller = new AbortController()
    controller.abort()
    const queue = new AsyncQueue<number>(10, controller.signal)
    expect(await drain(queue)).toEqual([])
  })

  it('when the reader stops early, then what is queued is dropped and later pushes are refused', async () => {
    const queue = new AsyncQueue<number>(10)
    queue.push(1)
    queue.push(2)
    for await (const item of queue) {
      expect(item).toBe(1)
      break
    }
    expect(queue.push(3)).toBe(false)
    expect(await drain(queue)).toEqual([])
  })

  it('when two reads wait at once, then each gets its own item in order', async () => {
    const queue = new AsyncQueue<number>(10)
    const first = queue.next()
    const second = queue.next()
    queue.push(1)
    queue.push(2)
    expect(await Promise.all([first, second])).toEqual([
      { value: 1, done: false },
      { value: 2, done: false },
    ])
  })
})
