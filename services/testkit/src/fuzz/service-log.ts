/** One line a service logged (pino JSON), with the error it carries when there is one. */
export interface LogRecord {
  level: string
  msg: string
  method?: string
  err?: { type?: string; message?: string; stack?: string; code?: string }
  /** The line as written, for lines that are not JSON. */
  raw: string
}

/**
 * What one service process writes, line by line, so an INTERNAL answer can be matched with the
 * "unexpected error" the service logged for it. Calls to a service are sent one at a time, so the
 * error logged for a method during its call is that call's.
 */
export class ServiceLog {
  private readonly records: LogRecord[] = []
  private partial = ''
  private readonly claimed = new Set<LogRecord>()
  private wake: (() => void) | undefined

  /** Feeds output as the process writes it (chunks need not end at line ends). */
  write(text: string): void {
    const lines = (this.partial + text).split('\n')
    this.partial = lines.pop() ?? ''
    for (const line of lines) if (line.trim()) this.records.push(parse(line))
    this.wake?.()
  }

  /** A position to look for records after. */
  mark(): number {
    return this.records.length
  }

  /** The first unclaimed "unexpected error" of `method` logged after `mark`, waiting up to `waitMs` for it. */
  async unexpectedError(mark: number, method: string, waitMs: number): Promise<LogRecord | undefined> {
    const deadline = Date.now() + waitMs
    for (;;) {
      const found = this.records.slice(mark).find((r) => r.msg === 'unexpected error' && r.method === method && !this.claimed.has(r))
      if (found) {
        this.claimed.add(found)
        return found
      }
      const left = deadline - Date.now()
      if (left <= 0) return undefined
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  /**
   * Error-level records after `mark` that no call claimed: logged by consumers, jobs, or calls the
   * fuzzer did not match. "call failed" lines only repeat a status the fuzzer saw at the client.
   */
  unclaimedErrors(mark = 0): LogRecord[] {
    return this.records
      .slice(mark)
      .filter((r) => (r.level === 'error' || r.level === 'fatal') && r.msg !== 'call failed' && !this.claimed.has(r))
  }
}

function parse(line: string): LogRecord {
  try {
    const json = JSON.parse(line) as Record<string, unknown>
    const err = typeof json['err'] === 'object' && json['err'] !== null ? (json['err'] as LogRecord['err']) : undefined
    return {
      level: typeof json['level'] === 'string' ? json['level'] : '',
      msg: typeof json['msg'] === 'string' ? json['msg'] : '',
      ...(typeof json['method'] === 'string' ? { method: json['method'] } : {}),
      ...(err ? { err } : {}),
      raw: line,
    }
  } catch {
    // Not JSON: a crash trace or a warning from Node itself.
    return { level: /error|exception/i.test(line) ? 'error' : 'info', msg: line, raw: line }
  }
}

/**
 * Where an error comes from: `key` has its type, code and message with ids and numbers masked, and
 * the first frame in our code (errors with the same key are one finding); `text` the same unmasked.
 */
export function signatureOf(record: LogRecord): { key: string; text: string } {
  const err = record.err
  const message = err?.message ?? record.msg
  const masked = message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\d+/g, 'N')
  const where = ownFrame(err?.stack ?? '')
  const kind = `${err?.type ?? 'Error'}${err?.code ? ` ${err.code}` : ''}`
  return { key: `${kind}: ${masked} @ ${where}`, text: `${kind}: ${message} @ ${where}` }
}

// The frames every error passes through on its way out say nothing about where it started.
const PLUMBING = /runtime\/src\/grpc\/(routes|status|calls)\.ts/

/** The stack frames in services/ source, as `function (path:line)` (library frames say little). */
export function ownFrames(stack: string): string[] {
  return stack.split('\n').flatMap((line) => {
    const match = /at (?:async )?(?:([^\s(]+) \()?[^\s(]*?(services\/[^\s:()]+\.ts):(\d+)/.exec(line)
    return match ? [`${match[1] ?? '<anonymous>'} (${match[2]}:${match[3]})`] : []
  })
}

/** The first stack frame in services/ source that is not the error mapping itself, as `path:line`. */
function ownFrame(stack: string): string {
  const frame = ownFrames(stack).find((f) => !PLUMBING.test(f))
  return frame ? frame.slice(frame.indexOf('(') + 1, -1) : 'no frame in services/'
}
