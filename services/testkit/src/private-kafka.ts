import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, REPO_ROOT } from './infra.ts'
import { reaper } from './reaper.ts'
import { portOpen, startServer, type ServerProcess } from './server-process.ts'

/**
 * A Kafka broker of a test's own (KRaft, one combined node on loopback, free ports, its own data
 * directory), that the test may stop and start: an outage no other test sees. It runs exactly as
 * scripts/stack.sh runs the shared broker: the same jars (.stack/kafka/libs, fetched by
 * `scripts/stack.sh up`), deploy/kafka/server.properties.tmpl and deploy/kafka/log4j.properties.
 */
export interface PrivateKafka {
  brokers: string
  /** Its log (every run), for a report. */
  logFile: string
  /** SIGTERM (a controlled shutdown); resolves once the JVM has exited. */
  stop(): Promise<void>
  /** Starts it again on the same ports and data; resolves once it serves requests. */
  start(): Promise<void>
  /** Stops it and deletes its directory. */
  close(): Promise<void>
}

const READY_LINE = 'Kafka Server started'
const run = promisify(execFile)

/**
 * Where the broker's jars are: TEST_KAFKA_LIBS when set, else what `scripts/stack.sh up` fetched
 * into .stack/kafka/libs (it writes `.complete` when the download finished).
 */
export function kafkaLibs(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['TEST_KAFKA_LIBS']
  const dir = given ?? join(REPO_ROOT, '.stack/kafka/libs')
  if (existsSync(join(dir, '.complete')) || (given && existsSync(dir))) return dir
  throw new Error(
    `no Kafka broker jars in ${dir}: run \`bash scripts/stack.sh up\` (local mode fetches them) or set TEST_KAFKA_LIBS to a directory holding them`,
  )
}

export async function startPrivateKafka(env: NodeJS.ProcessEnv = process.env): Promise<PrivateKafka> {
  const libs = kafkaLibs(env)
  const dir = mkdtempSync(join(tmpdir(), 'brewmesh-kafka-'))
  reaper.watchDir(dir)
  try {
    const [port, controllerPort] = [await freePort(), await freePort()]
    const config = join(dir, 'server.properties')
    writeFileSync(
      config,
      readFileSync(join(REPO_ROOT, 'deploy/kafka/server.properties.tmpl'), 'utf8')
        .replaceAll('@BROKER_PORT@', String(port))
        .replaceAll('@CONTROLLER_PORT@', String(controllerPort))
        .replaceAll('@LOG_DIRS@', join(dir, 'data')),
    )
    const java = [
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${join(REPO_ROOT, 'deploy/kafka/log4j.properties')}`,
      '-cp',
      `${libs}/*`,
    ]
    // Any 22-character id will do: the data directory is formatted once, here.
    await run(
      'java',
      [
        '-Xmx256m',
        ...java,
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${randomBytes(16).toString('base64url')}`,
        '--config',
        config,
      ],
      {
        timeout: 120_000,
      },
    )
    const logFile = join(dir, 'server.log')
    const args = ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', ...java, 'kafka.Kafka', config]
    // Requests are served only once the broker is unfenced, which the log says; an open port is not enough.
    const ready = async (log: () => string) => log().includes(READY_LINE) && (await portOpen(port))
    const start = () => startServer({ name: 'private kafka', command: 'java', args, logFile, ready, readyTimeoutMs: 120_000 })
    let server: ServerProcess | undefined = await start()
    const stop = async () => {
      await server?.stop(60_000)
      server = undefined
    }
    return {
      brokers: `127.0.0.1:${port}`,
      logFile,
      stop,
      async start() {
        server ??= await start()
      },
      async close() {
        await stop()
        rmSync(dir, { recursive: true, force: true })
        reaper.forgetDir(dir)
      },
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    reaper.forgetDir(dir)
    throw err
  }
}
