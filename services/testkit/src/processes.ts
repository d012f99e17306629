import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { credentials } from '@grpc/grpc-js'
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthClient,
  type HealthCheckResponse,
} from '@brewmesh/gen/grpc/health/v1/health.ts'
import { ensureBundled, MAIN, PRELOAD } from '../../../scripts/bundle.ts'
import { REPO_ROOT } from './infra.ts'
import { reaper } from './reaper.ts'

/** A service running as its own Node process, as in production (its bundle, telemetry preloaded). */
export interface ServiceProcess {
  name: string
  port: number
  pid: number
  output: () => string
  /** Resolves once the process has exited, with its exit code (null when a signal ended it). */
  exited: Promise<number | null>
  /** False once the process has exited (or was killed), whatever the reason. */
  running(): boolean
  /** SIGTERM, then the exit code (0 after a graceful shutdown). */
  stop(): Promise<number | null>
  /** Sends a signal (SIGKILL: a crash) and resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<number | null>
}

export interface ProcessOptions {
  /** How long it may take to become SERVING. */
  timeoutMs?: number
  /** Every line it writes is appended here too (the in-memory output keeps only the last 20 KB). */
  logFile?: string
  /** Everything the process writes (stdout and stderr), as it comes: output() keeps only the end. */
  onOutput?: (text: string) => void
}

function run(dir: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { cwd: join(REPO_ROOT, dir), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Runs a service's migration command to completion. */
export async function migrateProcess(service: string, env: Record<string, string>): Promise<void> {
  const child = run(`services/${service}`, ['src/migrate.ts'], env)
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`${service} migration exited ${code}: ${output.slice(-2000)}`)
}

async function serving(port: number, timeoutMs: number): Promise<boolean> {
  const client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure())
  const deadline = Date.now() + timeoutMs
  try {
    while (Date.now() < deadline) {
      const status = await new Promise<number | undefined>((resolve) =>
        client.check({ service: '' }, (err, r?: HealthCheckResponse) => resolve(err ? undefined : r?.status)),
      )
      if (status === Serving.SERVING) return true
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    return false
  } finally {
    client.close()
  }
}

/**
 * Starts a service as deployed, from its bundle (`services/<service>/dist/main.mjs`, rebuilt first
 * if a source changed: scripts/bundle.ts), with its environment, and waits until it is SERVING.
 */
export async function startProcess(
  service: string,
  port: number,
  env: Record<string, string>,
  options: ProcessOptions = {},
): Promise<ServiceProcess> {
  const { timeoutMs = 60_000, logFile, onOutput } = options
  // CPU_PROFILE_DIR (benches): each service writes a V8 CPU profile there when it stops.
  const profile = process.env['CPU_PROFILE_DIR']
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env['CPU_PROFILE_DIR']}`, `--cpu-prof-name=${service}-${port}.cpuprofile`]
    : []
  await ensureBundled(service)
  const child = run(`services/${service}`, [...profile, '--import', PRELOAD, MAIN], {
    ...env,
    GRPC_PORT: String(port),
  })
  const pid = child.pid!
  reaper.watchPid(pid)
  let output = ''
  const keep = (text: string) => {
    output = (output + text).slice(-20_000)
    if (logFile) appendFileSync(logFile, text)
    onOutput?.(text)
  }
  // Decoded as streams, so a character split between two chunks stays whole.
  child.stdout?.setEncoding('utf8').on('data', keep)
  child.stderr?.setEncoding('utf8').on('data', keep)
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      reaper.forgetPid(pid)
      resolve(code)
    }),
  )
  const up = await Promise.race([serving(port, timeoutMs), exited.then(() => false)])
  if (!up) {
    child.kill('SIGKILL')
    throw new Error(`${service} did not become SERVING on ${port}:\n${output.slice(-3000)}`)
  }
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill(signal)
    return exited
  }
  return {
    name: service,
    port,
    pid,
    output: () => output,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    kill,
    async stop() {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      const code = await kill('SIGTERM')
      clearTimeout(timer)
      return code
    },
  }
}
