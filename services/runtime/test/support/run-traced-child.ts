import { spawn } from 'node:child_process'
import { join } from 'node:path'

/**
 * Runs traced-child.ts with the telemetry preload (register.ts), `env` over this process's own;
 * resolves with the trace id it printed once it exited cleanly.
 */
export async function runTracedChild(env: Record<string, string>): Promise<string> {
  const out = await runTracedChildOutput(env)
  return /^trace-id (\w+)$/m.exec(out)?.[1] ?? `no trace id in: ${out}`
}

/** The same run; resolves with everything the child wrote to stdout (its log lines included). */
export function runTracedChildOutput(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['--import', './src/telemetry/register.ts', 'test/support/traced-child.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`)))),
  )
}
