import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './infra.ts'
import { reaper } from './reaper.ts'
import { startServer, type ServerProcess } from './server-process.ts'

/**
 * A Valkey (or redis-server 7, as scripts/stack.sh uses) of a test's own, on a free port, that
 * the test may stop and start: an outage no other test sees. Started as scripts/stack.sh starts
 * the shared one (loopback, no persistence), so a restart comes back empty, as a cache restarted
 * without persistence does.
 */
export interface PrivateValkey {
  host: string
  port: number
  /** Its log (every run), for a report. */
  logFile: string
  /** SIGTERM; resolves once the server has exited. */
  stop(): Promise<void>
  /** Starts it again on the same port; resolves once it answers PING. */
  start(): Promise<void>
  /** Stops it and deletes its directory. */
  close(): Promise<void>
}

function serverBinary(): string {
  for (const name of ['valkey-server', 'redis-server']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim()
    } catch {
      // not this one
    }
  }
  throw new Error('neither valkey-server nor redis-server is installed (scripts/stack.sh up installs redis-server)')
}

/** True when the server answers PING with +PONG. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
    socket.once('error', () => done(false))
    socket.setTimeout(1000, () => done(false))
  })
}

export async function startPrivateValkey(): Promise<PrivateValkey> {
  const binary = serverBinary()
  const dir = mkdtempSync(join(tmpdir(), 'brewmesh-valkey-'))
  reaper.watchDir(dir)
  const port = await freePort()
  const logFile = join(dir, 'server.log')
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no']
  const run = () => startServer({ name: 'private valkey', command: binary, args, logFile, ready: () => pong(port), readyTimeoutMs: 20_000 })
  let server: ServerProcess | undefined = await run()
  const stop = async () => {
    await server?.stop(10_000)
    server = undefined
  }
  return {
    host: '127.0.0.1',
    port,
    logFile,
    stop,
    async start() {
      server ??= await run()
    },
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
      reaper.forgetDir(dir)
    },
  }
}
