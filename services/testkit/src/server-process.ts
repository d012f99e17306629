import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, statSync } from 'node:fs'
import { createConnection } from 'node:net'
import { reaper } from './reaper.ts'

/** A server a test runs as a child process of its own (a private broker or cache), output in a log file. */
export interface ServerProcess {
  pid: number
  /** Resolves once the process has exited, with its exit code or signal. */
  exited: Promise<string>
  /** SIGTERM (a graceful stop), SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>
}

export interface ServerOptions {
  name: string
  command: string
  args: string[]
  /** Appended to, so restarts keep the earlier runs' lines. */
  logFile: string
  /** Ready when this answers true; it gets what the server logged since this start. */
  ready: (logSinceStart: () => string) => Promise<boolean>
  readyTimeoutMs: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    const done = (open: boolean) => {
      socket.destroy()
      resolve(open)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.setTimeout(1000, () => done(false))
  })
}

/** Starts the server and waits until it is ready; kills it and throws with its last lines if it is not. */
export async function startServer(o: ServerOptions): Promise<ServerProcess> {
  const offset = statSafe(o.logFile)
  const fd = openSync(o.logFile, 'a')
  const child = spawn(o.command, o.args, { stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const pid = child.pid
  if (pid === undefined) throw new Error(`${o.name}: ${o.command} did not start`)
  reaper.watchPid(pid)
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => {
      reaper.forgetPid(pid)
      resolve(signal ?? String(code))
    }),
  )
  let gone = false
  void exited.then(() => (gone = true))
  const logSinceStart = () => readFileSync(o.logFile).subarray(offset).toString()

  const stop = async (graceMs = 30_000) => {
    if (gone) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }

  const deadline = Date.now() + o.readyTimeoutMs
  while (!gone && Date.now() < deadline) {
    if (await o.ready(logSinceStart)) return { pid, exited, stop }
    await sleep(100)
  }
  await stop(0)
  throw new Error(`${o.name} was not ready within ${o.readyTimeoutMs} ms${gone ? ' (it exited)' : ''}:\n${logSinceStart().slice(-3000)}`)
}

function statSafe(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}
