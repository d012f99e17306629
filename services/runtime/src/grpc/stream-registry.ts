import { status as Code, type ServerDuplexStream, type ServerReadableStream, type ServerWritableStream } from '@grpc/grpc-js'

type AnyStream = ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>

/** Open streaming calls, so shutdown can end them with UNAVAILABLE instead of cutting them. */
export class StreamRegistry {
  private readonly open = new Map<AnyStream, AbortController>()
  private closing = false

  add(call: AnyStream, controller: AbortController): boolean {
    if (this.closing) return false
    this.open.set(call, controller)
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
    for (const [call, controller] of this.open) {
      controller.abort(new Error('server shutting down'))
      call.emit('error', { code: Code.UNAVAILABLE, details: 'server shutting down, reconnect' })
    }
    this.open.clear()
  }
}
