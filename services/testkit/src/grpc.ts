import type { ClientReadableStream, Metadata, ServiceError } from '@grpc/grpc-js'

type Callback<Res> = (err: ServiceError | null, response?: Res) => void

/** Awaits a callback-style generated client call: `await unary<Res>((cb) => client.getX(req, cb))`. */
export function unary<Res>(invoke: (callback: Callback<Res>) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke((err, response) => (err ? reject(err) : resolve(response as Res)))
  })
}

/** Awaits a call expected to fail and returns its error (fails the test if it succeeds). */
export async function failure(call: Promise<unknown>): Promise<ServiceError & { metadata: Metadata }> {
  try {
    await call
  } catch (err) {
    return err as ServiceError & { metadata: Metadata }
  }
  throw new Error('expected the call to fail, it succeeded')
}

/** Reads a server stream message by message, with a timeout per message. */
export class StreamReader<T> {
  private readonly buffered: T[] = []
  private waiting: (() => void) | undefined
  private ended = false
  error: ServiceError | undefined

  constructor(stream: ClientReadableStream<T> | NodeJS.EventEmitter | AsyncIterable<T>) {
    if (Symbol.asyncIterator in stream) {
      void this.drain(stream as AsyncIterable<T>)
      return
    }
    stream.on('data', (m: T) => {
      this.buffered.push(m)
      this.wake()
    })
    stream.on('error', (err: ServiceError) => {
      this.error = err
      this.ended = true
      this.wake()
    })
    stream.on('end', () => {
      this.ended = true
      this.wake()
    })
  }

  /** Reads a promise client's stream (an async iterable) into the buffer. */
  private async drain(messages: AsyncIterable<T>): Promise<void> {
    try {
      for await (const m of messages) {
        this.buffered.push(m)
        this.wake()
      }
    } catch (err) {
      this.error = err as ServiceError
    }
    this.ended = true
    this.wake()
  }

  private wake() {
    this.waiting?.()
    this.waiting = undefined
  }

  /** Resolves at the next message, end or error, or after ms. */
  private change(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.waiting = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /** The next message; rejects when the stream ended or failed first, or after timeoutMs. */
  async next(timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const message = this.buffered.shift()
      if (message !== undefined) return message
      if (this.ended) throw this.error ?? new Error('stream ended')
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms`)
      await this.change(left)
    }
  }

  /** Resolves with the final status error (undefined for OK) once the stream ends. */
  async end(timeoutMs = 15_000): Promise<ServiceError | undefined> {
    const deadline = Date.now() + timeoutMs
    while (!this.ended) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`stream did not end within ${timeoutMs} ms`)
      await this.change(left)
    }
    return this.error
  }

  get pending(): number {
    return this.buffered.length
  }
}

/** Requests a test sends on a stream one at a time (a promise client's client or bidi stream reads them). */
export function pushable<T>(): AsyncIterable<T> & { push(message: T): void; end(): void } {
  const queued: T[] = []
  let ended = false
  let wake: (() => void) | undefined
  return {
    push(message) {
      queued.push(message)
      wake?.()
    },
    end() {
      ended = true
      wake?.()
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = queued.shift()
        if (next !== undefined) yield next
        else if (ended) return
        else await new Promise<void>((resolve) => (wake = resolve))
      }
    },
  }
}
