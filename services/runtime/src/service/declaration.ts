import type { ServiceDefinition } from '@grpc/grpc-js'
import type { Meter } from '@opentelemetry/api'
import type { Processor, Queue } from 'bullmq'
import type { Kysely } from 'kysely'
import type { BaseConfig } from '../config.ts'
import type { Routes } from '../grpc/routes.ts'
import type { DependencyCheck, HealthMonitor } from '../health.ts'
import type { BatchHandler } from '../kafka/consumer.ts'
import type { Audience } from '../kafka/idle-feed.ts'
import type { OutboxRelay } from '../kafka/outbox-relay.ts'
import type { Stoppable } from '../lifecycle.ts'
import type { Logger } from '../logger.ts'
import type { Valkey } from '../valkey.ts'

/**
 * What a service is, declared in one object (app.ts returns it): the gRPC services it serves, the
 * topics it publishes through its outbox, what it consumes and how, its jobs. Runtime turns it
 * into running parts in one known order (service/start.ts) and stops them in reverse.
 */
export interface ServiceDeclaration {
  grpc: Served[]
  /** Topics this service writes through its outbox: created at start, published by the relay. */
  publishes: string[]
  consumes?: Consumption[]
  jobs?: Job[]
  /** Health checks beyond PostgreSQL (required), Valkey and Kafka (reported). */
  checks?: DependencyCheck[]
}

/** A generated service and its route table. */
export interface Served {
  definition: ServiceDefinition
  routes: Routes<ServiceDefinition>
}

/** Pairs a generated service definition with its route table, checked against each other. */
export const served = <S extends ServiceDefinition>(definition: S, routes: Routes<S>): Served => ({
  definition,
  routes: routes,
})

/**
 * A consumer. `durable`: one group per deployment (named `name`), read from the beginning, every
 * effect recorded with its event id, poison to `<topic>.dlq`. `per-replica`: every replica reads
 * every event from now on for in-memory fan-out (live streams, cache invalidation); nothing is
 * dead-lettered and no offsets are kept, so a replica leaves no group behind.
 */
export interface Consumption<T = unknown> {
  name: string
  /** Topic names as the contracts give them; the deployment's suffix is added. */
  topics: string[]
  group: 'durable' | 'per-replica'
  handler: BatchHandler<T>
  /**
   * After a fetch that brought messages, how long the next ones gather before the next fetch
   * (kafka/consumer.ts): under load, one fetch and one chunk per window instead of one per message.
   * The first message after a quiet spell is delivered at once. Unset: 0 for durable groups,
   * PER_REPLICA_WINDOW_MS for per-replica ones (a live stream or a cache hears of a change that
   * much later at most, under load).
   */
  batchWindowMs?: number
  /**
   * Per-replica only: the fan-out whose streams this feed serves. While none is open the feed
   * stops fetching, and the first to open wakes it (kafka/idle-feed.ts; streams subscribe, then
   * await `live()`, then read). Not for a feed with effects of its own (cache invalidation).
   */
  audience?: Audience
}

/** The batch window of per-replica consumers that set none. */
export const PER_REPLICA_WINDOW_MS = 25

/** A BullMQ queue this service works on: its processor and its repeating jobs (upserted, so replicas never duplicate them). */
export interface Job<T = unknown> {
  queue: string
  processor: Processor<T>
  /** Jobs processed at once by each replica (1). */
  concurrency?: number
  schedules?: { id: string; cron: string; job: string }[]
}

/** What runtime opens before the service declares itself, for its stores, caches and clients. */
export interface Infrastructure<DB> {
  config: BaseConfig
  log: Logger
  meter: Meter
  clock: () => Date
  db: Kysely<DB>
  /** Commands fail fast while Valkey is away (cache bypass); never BullMQ's connection. */
  valkey: Valkey
  /** The BullMQ queue of this name, on the jobs connection (one per name). */
  queue<T>(name: string): Queue<T>
  /** Whether BullMQ's connection is up: enqueueing while it is down would wait until it is back. */
  jobsUp(): boolean
  /** A contract topic's name in this deployment (tests add a suffix). */
  topic(base: string): string
  /** A part of the service's own (an outbound client, a subscriber), stopped with it. */
  own(part: Stoppable): void
  /**
   * Something that must not block the start and must recover by itself (subscribing a Valkey
   * channel): tried now and again with backoff until it succeeds or the service stops.
   */
  retry(name: string, attempt: () => Promise<void>): void
  /** Aborted when the service starts stopping: background loops of its own end with it. */
  stopping: AbortSignal
}

/** The running service, as main.ts and tests see it. */
export interface RunningService {
  grpcPort: number
  metricsPort: number
  /** Resolves once every consumer has joined its group (tests wait for it). */
  ready: Promise<void>
  health: HealthMonitor
  /** The outbox relay (tests hold events back by stopping it). */
  relay: OutboxRelay
  log: Logger
  stop(): Promise<void>
}
