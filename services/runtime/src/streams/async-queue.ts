/**
 * A bounded queue between push-style producers (event listeners) and one async consumer (a
 * stream writer). Overflow closes it with an error rather than growing without limit when a
 * client reads slower than events arrive.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
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

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.failure) throw this.failure
      const next = this.items.shift()
      if (next !== undefined) {
        yield next
        continue
      }
      if (this.closed || this.signal?.aborted) return
      await new Promise<void>((resolve) => (this.waiting = resolve))
    }
  }
}

export class QueueOverflow extends Error {
  constructor(limit: number) {
    super(`more than ${limit} messages waiting: the client reads too slowly`)
    this.name = 'QueueOverflow'
  }
}
