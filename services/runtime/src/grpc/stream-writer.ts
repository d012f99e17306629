import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js'
import type { CallEnd } from './call-end.ts'

type Writable = ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>

/**
 * Writes every message a handler yields, waiting for 'drain' when the client reads slower. When
 * the call goes away the iterator is closed (a generator's finally blocks run), so handlers never
 * check. `beforeWrite` runs before each message goes out and may throw to fail the call (the route
 * checks that the handler authorized it); the iterator is closed then too. `done` is called once:
 * without an error when the handler is done or the call went away, with what the handler (or
 * `beforeWrite`) threw otherwise.
 *
 * Driven by callbacks rather than written as an async function: a live stream (WatchOrder) waits
 * here for most of its life, and the chain of suspended async frames it replaces (the call's run,
 * the write loop, the step that waits for the next message, each with its generator object,
 * registers, context and promises) was about 1 KiB of each of 10,000 open streams
 * (bench/README.md watch-streams). What waits now is the iterator's one pending promise and this
 * object.
 */
export function writeAll(
  raw: Writable,
  messages: () => AsyncIterable<unknown>,
  end: CallEnd,
  beforeWrite: () => void,
  done: (err?: unknown) => void,
): void {
  let iterator: AsyncIterator<unknown>
  try {
    iterator = messages()[Symbol.asyncIterator]()
  } catch (err) {
    return done(err)
  }
  new StreamWriter(raw, iterator, end, beforeWrite, done).pull()
}

class StreamWriter {
  private readonly raw: Writable
  private readonly iterator: AsyncIterator<unknown>
  private readonly end: CallEnd
  private readonly beforeWrite: () => void
  private readonly done: (err?: unknown) => void
  private finished = false

  constructor(raw: Writable, iterator: AsyncIterator<unknown>, end: CallEnd, beforeWrite: () => void, done: (err?: unknown) => void) {
    this.raw = raw
    this.iterator = iterator
    this.end = end
    this.beforeWrite = beforeWrite
    this.done = done
    end.onEnd(this.close)
  }

  /** Asks the handler for its next message. */
  readonly pull = (): void => {
    if (this.finished) return
    let next: Promise<IteratorResult<unknown>>
    try {
      next = this.iterator.next()
    } catch (err) {
      return this.finish(err)
    }
    next.then(this.write, this.fail)
  }

  /** One message to the wire. Its own callback, so nothing here keeps the message once it is written. */
  private readonly write = (step: IteratorResult<unknown>): void => {
    if (step.done || this.end.ended || this.raw.destroyed || this.raw.writableEnded) return this.finish()
    let written: boolean
    try {
      this.beforeWrite()
      // Throws when the message cannot be serialized: nothing here may throw, as a rejection of
      // the promise this callback hangs on would go unhandled.
      written = this.raw.write(step.value)
    } catch (err) {
      return this.finish(err)
    }
    if (written) return this.pull()
    // The client reads slower: go on once the buffer drains, or once the call goes away.
    const resume = () => {
      this.raw.off('drain', resume)
      this.end.off(resume)
      this.pull()
    }
    this.raw.once('drain', resume)
    this.end.onEnd(resume)
  }

  private readonly fail = (err: unknown): void => this.finish(err ?? new Error('the handler failed'))

  /** Closes the handler's iterator: the call went away, or failed before the handler finished. */
  private readonly close = (): void => void this.iterator.return?.().catch(() => undefined)

  private finish(err?: unknown): void {
    if (this.finished) return
    this.finished = true
    this.end.off(this.close)
    if (this.end.ended || err !== undefined) this.close()
    this.done(err)
  }
}
