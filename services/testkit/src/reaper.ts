import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { Socket } from 'node:net'

/**
 * Cleans up after this process even when it dies without running its own clean-up (a crashed or
 * killed test worker): servers and service processes a test started are registered here, and a
 * small detached process kills them and deletes their directories once this one is gone.
 * Normal clean-up still happens in the tests; they unregister what they stopped themselves.
 */
export interface Reaper {
  watchPid(pid: number): void
  forgetPid(pid: number): void
  watchDir(path: string): void
  forgetDir(path: string): void
}

let child: ChildProcess | undefined

function tell(line: string): void {
  if (!child) {
    child = spawn(process.execPath, [join(import.meta.dirname, 'reaper-process.ts')], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    child.unref()
    // The pipe must not keep this process alive; its closing is the reaper's signal.
    ;(child.stdin as Socket).unref()
    child.stdin!.on('error', () => undefined)
  }
  child.stdin!.write(`${line}\n`)
}

/** The reaper of this process (started on first use). */
export const reaper: Reaper = {
  watchPid: (pid) => tell(`pid ${pid}`),
  forgetPid: (pid) => tell(`unpid ${pid}`),
  watchDir: (path) => tell(`dir ${path}`),
  forgetDir: (path) => tell(`undir ${path}`),
}
