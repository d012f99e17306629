import type { PrivateKafka } from '@brewmesh/testkit/private-kafka.ts'
import type { PrivateValkey } from '@brewmesh/testkit/private-valkey.ts'
import type { Variant } from './load.ts'
import type { Mesh, Replica } from './mesh.ts'

/**
 * One stretch of a phase's timeline: from a fault's injection to the next one's (the first,
 * `warm-up`, from the start of the load). Calls are attributed to the window they ended in.
 */
export interface FaultWindow {
  name: string
  kind: 'warm-up' | 'kill' | 'kafka' | 'valkey' | 'sigterm'
  /** The placements that cannot succeed without what the fault took away. */
  needs: Variant[]
  startedAt: number
  /** What was taken away is back: the replica SERVING again, the server answering. */
  restoredAt: number
  /** The mesh looked recovered (recovered() in phase.ts); undefined when it did not within the bound. */
  recoveredAt: number | undefined
  endedAt: number
  notes: string[]
}

export interface Fault {
  name: string
  kind: FaultWindow['kind']
  needs: Variant[]
  /** Takes something away and brings it back; resolves once it is back. */
  inject(note: (line: string) => void): Promise<void>
}

export interface FaultSettings {
  kafkaDownMs: number
  valkeyDownMs: number
}

const ALL: Variant[] = ['menu', 'usual', 'reward']
const NEEDS: Record<Replica['service'], Variant[]> = { customer: ALL, favorites: ['usual'], loyalty: ['reward'], order: ALL }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** kill -9, then the same replica started again at once (same port, settings and INSTANCE_ID). */
function crash(mesh: Mesh, replica: Replica): Fault {
  return {
    name: `kill -9 ${replica.name}`,
    kind: 'kill',
    needs: NEEDS[replica.service],
    async inject(note) {
      await mesh.end(replica, 'SIGKILL')
      const t0 = Date.now()
      await mesh.start(replica)
      note(`restarted and SERVING ${seconds(Date.now() - t0)} after the kill`)
    },
  }
}

/** SIGTERM under load (a rolling restart's stop), started again once it has exited. */
function terminate(mesh: Mesh, replica: Replica): Fault {
  return {
    name: `SIGTERM ${replica.name}`,
    kind: 'sigterm',
    needs: NEEDS[replica.service],
    async inject(note) {
      const t0 = Date.now()
      const code = await mesh.end(replica, 'SIGTERM')
      note(`exited with ${code} after ${seconds(Date.now() - t0)}`)
      const t1 = Date.now()
      await mesh.start(replica)
      note(`SERVING again ${seconds(Date.now() - t1)} after the restart`)
    },
  }
}

function outage(name: string, kind: 'kafka' | 'valkey', server: PrivateKafka | PrivateValkey, downMs: number): Fault {
  return {
    name,
    kind,
    needs: ALL,
    async inject(note) {
      const t0 = Date.now()
      await server.stop()
      note(`stopped in ${seconds(Date.now() - t0)}`)
      await sleep(Math.max(0, downMs - (Date.now() - t0)))
      const t1 = Date.now()
      await server.start()
      note(`started again in ${seconds(Date.now() - t1)}`)
    },
  }
}

/**
 * The faults of one phase, one after the other: kill -9 of each service (its first replica),
 * Kafka stopped and restarted, Valkey stopped and restarted, SIGTERM of the Order Service (its
 * last replica). With two replicas, one replica is down at a time and the other keeps serving.
 */
export function faultPlan(mesh: Mesh, kafka: PrivateKafka, valkey: PrivateValkey, s: FaultSettings): Fault[] {
  const first = (service: Replica['service']) => mesh.of(service)[0]!
  return [
    crash(mesh, first('customer')),
    crash(mesh, first('favorites')),
    crash(mesh, first('loyalty')),
    crash(mesh, first('order')),
    outage(`Kafka stopped ${s.kafkaDownMs / 1000} s`, 'kafka', kafka, s.kafkaDownMs),
    outage(`Valkey stopped ${s.valkeyDownMs / 1000} s`, 'valkey', valkey, s.valkeyDownMs),
    terminate(mesh, mesh.of('order').at(-1)!),
  ]
}
