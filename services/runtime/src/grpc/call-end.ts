/**
 * The end of a streaming call: the caller cancelled, its deadline passed, or the server shuts
 * down. What the stream's writer and reader wait on, in place of an AbortController: a controller
 * with its signal and one listener is about 470 bytes (an EventTarget with its listener map and
 * listener record), this with its listener about 110, held by every open stream for as long as it
 * lasts (bench/README.md watch-streams). A handler that asks for an AbortSignal (`Call.signal`)
 * still gets one, made then and aborted with this.
 */
export class CallEnd {
  private why: Error | undefined
  /** Most streams have one listener (the writer's); an array only for more. */
  private listeners: (() => void) | (() => void)[] | undefined
  private controller: AbortController | undefined

  get ended(): boolean {
    return this.why !== undefined
  }

  /** Calls `listener` once when the call ends (at once if it has). */
  onEnd(listener: () => void): void {
    if (this.why) return listener()
    const l = this.listeners
    this.listeners = l === undefined ? listener : Array.isArray(l) ? [...l, listener] : [l, listener]
  }

  /** Forgets a listener that has not been called yet. */
  off(listener: () => void): void {
    const l = this.listeners
    if (l === listener) this.listeners = undefined
    else if (Array.isArray(l)) this.listeners = l.filter((x) => x !== listener)
  }

  /** Ends the call; only the first reason counts. */
  end(reason: Error): void {
    if (this.why) return
    this.why = reason
    const l = this.listeners
    this.listeners = undefined
    this.controller?.abort(reason)
    if (Array.isArray(l)) for (const listener of l) listener()
    else l?.()
  }

  /** An AbortSignal for handlers that pass one on (a queue, a client call), made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController()
      if (this.why) this.controller.abort(this.why)
    }
    return this.controller.signal
  }
}
