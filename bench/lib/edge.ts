import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { REPO } from './repo.ts'

export interface EdgeProcess {
  port: number
  pid: number
  stop(): Promise<void>
}

/**
 * The edge as its own process, as deployed (services/edge/src/main.ts, without the telemetry
 * preload, like the services in the benches): one Node event loop of its own, so what it costs
 * is not hidden in the service's. Waits until /readyz answers 200.
 */
export async function startEdgeProcess(port: number, env: Record<string, string>): Promise<EdgeProcess> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: join(REPO, 'services/edge'),
    env: { ...process.env, ...env, EDGE_PORT: String(port), EDGE_HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let output = ''
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the edge exited ${child.exitCode}: ${output}`)
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    )
    if (ready) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the edge was not ready in 30 s: ${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return {
    port,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
