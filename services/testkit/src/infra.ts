import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'

/** Connection settings of the servers the integration tests use, in the services' variable names. */
export interface InfraEnv {
  DB_HOST: string
  DB_PORT: string
  DB_USER: string
  DB_PASSWORD: string
  VALKEY_HOST: string
  VALKEY_PORT: string
  KAFKA_BROKERS: string
}

export interface Infra {
  env: InfraEnv
  source: 'environment' | 'testcontainers' | 'stack'
  /** Commands that stop and start the Kafka broker (argv), when the tests manage it. */
  kafkaControl: { stop: string[]; start: string[] } | undefined
}

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..')
const log = (message: string) => process.stderr.write(`[testkit] ${message}\n`)

const INFRA_KEYS = ['DB_HOST', 'DB_PORT', 'DB_USER', 'DB_PASSWORD', 'VALKEY_HOST', 'VALKEY_PORT', 'KAFKA_BROKERS'] as const

function fromEnvironment(env: NodeJS.ProcessEnv): InfraEnv | undefined {
  if (!env['DB_HOST'] || !env['VALKEY_HOST'] || !env['KAFKA_BROKERS']) return undefined
  return {
    DB_HOST: env['DB_HOST'],
    DB_PORT: env['DB_PORT'] ?? '5432',
    DB_USER: env['DB_USER'] ?? 'brewmesh',
    DB_PASSWORD: env['DB_PASSWORD'] ?? 'brewmesh',
    VALKEY_HOST: env['VALKEY_HOST'],
    VALKEY_PORT: env['VALKEY_PORT'] ?? '6379',
    KAFKA_BROKERS: env['KAFKA_BROKERS'],
  }
}

/**
 * A TCP port nobody listens on right now, for servers that must be told their port up front.
 *
 * Chosen below the kernel's ephemeral range (ip_local_port_range), not by binding port 0: a port
 * from that range can be taken, between this answer and the server's bind, as the source port of
 * any outgoing connection (a service's many connections to PostgreSQL, Kafka and Valkey), and the
 * server then fails with EADDRINUSE (seen in the fault suite). Ports are picked at random and
 * probed, and never handed out twice by one process.
 */
export async function freePort(): Promise<number> {
  const first = 10_000
  const last = EPHEMERAL_LOW - 1
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = first + Math.floor(Math.random() * (last - first + 1))
    if (handedOut.has(port)) continue
    handedOut.add(port) // before the probe: a concurrent call cannot pick it meanwhile
    if (await canListen(port)) return port
  }
  throw new Error(`no free port between ${first} and ${last} after 200 tries`)
}

const handedOut = new Set<number>()

/** The lowest source port of outgoing connections (Linux's ip_local_port_range), or IANA's, read once. */
const EPHEMERAL_LOW = (() => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    if (low > 11_000) return low
  } catch {
    // not Linux
  }
  return 49_152
})()

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}

/** PostgreSQL, Valkey and Kafka (KRaft) containers, the same images deploy/compose.yaml runs. */
async function startContainers(): Promise<{ infra: Infra; stop: () => Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers')
  log('starting postgres, valkey and kafka with testcontainers')
  const kafkaPort = await freePort()
  const [postgres, valkey, kafka] = await Promise.all([
    new GenericContainer('postgres:17-alpine')
      .withEnvironment({ POSTGRES_PASSWORD: 'postgres' })
      .withCopyFilesToContainer([{ source: join(REPO_ROOT, 'deploy/postgres/init.sql'), target: '/docker-entrypoint-initdb.d/init.sql' }])
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start(),
    new GenericContainer('valkey/valkey:8-alpine')
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
      .start(),
    // A fixed host port, advertised as such, so clients reach the broker after bootstrap and
    // the port survives the restart the outage test does.
    new GenericContainer('apache/kafka:3.9.1')
      .withExposedPorts({ container: 9092, host: kafkaPort })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      })
      .withWaitStrategy(Wait.forLogMessage('Kafka Server started'))
      .start(),
  ])
  const id = kafka.getId()
  return {
    infra: {
      source: 'testcontainers',
      env: {
        DB_HOST: postgres.getHost(),
        DB_PORT: String(postgres.getMappedPort(5432)),
        DB_USER: 'brewmesh',
        DB_PASSWORD: 'brewmesh',
        VALKEY_HOST: valkey.getHost(),
        VALKEY_PORT: String(valkey.getMappedPort(6379)),
        KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      },
      kafkaControl: { stop: ['docker', 'stop', id], start: ['docker', 'start', id] },
    },
    stop: async () => {
      await Promise.all([postgres.stop(), valkey.stop(), kafka.stop()])
    },
  }
}

/** scripts/stack.sh up: local processes (or compose), reused when already running. */
async function startStack(): Promise<Infra> {
  log('no Docker engine answers: provisioning with scripts/stack.sh up')
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [join(REPO_ROOT, 'scripts/stack.sh'), 'up'], { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scripts/stack.sh up exited with ${code}`))))
  })
  const env: Record<string, string> = {}
  for (const line of readFileSync(join(REPO_ROOT, '.stack/env'), 'utf8').split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line)
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2].replace(/^'(.*)'$/, '$1')
  }
  const infra = fromEnvironment(env)
  if (!infra) throw new Error('scripts/stack.sh up wrote no usable .stack/env')
  const stack = join(REPO_ROOT, 'scripts/stack.sh')
  return { source: 'stack', env: infra, kafkaControl: { stop: ['bash', stack, 'kafka', 'stop'], start: ['bash', stack, 'kafka', 'start'] } }
}

/**
 * Where the tests' servers come from: given by the environment (CI services, a devcontainer),
 * else testcontainers when a Docker engine answers, else scripts/stack.sh. Same tests either way.
 */
export async function provisionInfra(env: NodeJS.ProcessEnv = process.env): Promise<{ infra: Infra; stop: () => Promise<void> }> {
  const given = env['BREWMESH_STACK_ENV'] ? undefined : fromEnvironment(env)
  if (given) {
    log(`using servers given by the environment (${INFRA_KEYS.map((k) => `${k}=${given[k]}`).join(' ')})`)
    // Outage tests stop the broker; with servers given from outside, only commands given too can.
    const stop = env['TEST_KAFKA_STOP_CMD']
    const start = env['TEST_KAFKA_START_CMD']
    const kafkaControl = stop && start ? { stop: ['sh', '-c', stop], start: ['sh', '-c', start] } : undefined
    if (!kafkaControl) log('Kafka outage tests will not run: set TEST_KAFKA_STOP_CMD and TEST_KAFKA_START_CMD to let them stop this broker')
    return { infra: { source: 'environment', env: given, kafkaControl }, stop: async () => undefined }
  }
  if (env['STACK_MODE'] !== 'local' && (await dockerAnswers())) return startContainers()
  return { infra: await startStack(), stop: async () => undefined }
}

const run = promisify(execFile)

/** Stops or starts the broker for an outage test (the command the provisioner chose). */
export async function controlKafka(infra: Infra, action: 'stop' | 'start'): Promise<void> {
  const argv = infra.kafkaControl?.[action]
  if (!argv)
    throw new Error(
      `the tests cannot ${action} Kafka: it was ${infra.source === 'environment' ? 'given by the environment' : 'not started by them'}`,
    )
  const [file, ...args] = argv
  await run(file!, args, { timeout: 120_000 })
}
