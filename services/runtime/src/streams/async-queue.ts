/**
 * A bounded queue between push-style producers (event listeners) and one async consumer (a
 * stream writer). Overflow closes it with an error rather than growing without limit when a
 * client reads slower than events arrive.
 *
 * The queue is its own iterator, not an async generator: a live stream waits in next() for most
 * of its life, and a suspended generator (its frame, request queue and promises) cost each of
 * 10,000 open WatchOrder streams about 0.4 KiB more than one pending promise does.
 */
export class AsyncQueue<T> implements AsyncIterable<T>, AsyncIterator<T, undefined> {
  private readonly items: T[] = []
  private waiting: (() => void) | undefined
  private closed = false
  private failure: Error | undefined
  private readonly limit: number
  private readonly signal: AbortSignal | undefined

  constructor(limit: number, signal?: AbortSignal) {
    this.limit = limit
    this.signal = signal
    signal?.addEventListener('abort', () => this.close(), { once: true })
  }

  /** Adds an item; false (and the queue fails) when it is full. */
  push(item: T): boolean {
    if (this.closed) return false
    if (this.items.length >= this.limit) {
      this.close(new QueueOverflow(this.limit))
      return false
    }
    this.items.push(item)
    this.wake()
    return true
  }

  /** Ends iteration after the queued items; with an error, iteration throws it instead. */
  close(error?: Error): void {
    if (this.closed) return
    this.closed = true
    this.failure = error
    this.wake()
  }

  private wake() {
    const w = this.waiting
    this.waiting = undefined
    w?.()
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return this
  }

  /** The next item; waits while the queue is empty and open; throws the error it was closed with. */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false })
    if (this.closed || this.signal?.aborted) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => {
      // A second reader waiting at once (not what for-await does) is woken after the first.
      const earlier = this.waiting
      this.waiting = () => {
        earlier?.()
        resolve(this.next())
      }
    })
  }

  /** The reader is done (a for-await that stopped early): what is queued is dropped, later pushes refused. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.items.length = 0
    this.close()
    return Promise.resolve({ value: undefined, done: true })
  }
}

export class QueueOverflow extends Error {
  constructor(limit: number) {
    super(`more than ${limit} messages waiting: the client reads too slowly`)
    this.name = 'QueueOverflow'
  }
}
