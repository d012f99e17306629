import { status as Code, type ServerDuplexStream, type ServerReadableStream, type ServerWritableStream } from '@grpc/grpc-js'
import type { CallEnd } from './call-end.ts'

type AnyStream = ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>

/** Open streaming calls, so shutdown can end them with UNAVAILABLE instead of cutting them. */
export class StreamRegistry {
  private readonly open = new Map<AnyStream, CallEnd>()
  private closing = false

  add(call: AnyStream, end: CallEnd): boolean {
    if (this.closing) return false
    this.open.set(call, end)
    return true
  }

  remove(call: AnyStream): void {
    this.open.delete(call)
  }

  get size(): number {
    return this.open.size
  }

  /** Ends every open stream with UNAVAILABLE so clients reconnect elsewhere. */
  closeAll(): void {
    this.closing = true
    for (const [call, end] of this.open) {
      end.end(new Error('server shutting down'))
      call.emit('error', { code: Code.UNAVAILABLE, details: 'server shutting down, reconnect' })
    }
    this.open.clear()
  }
}
