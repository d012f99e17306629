import { Queue, Worker, type Job, type Processor } from 'bullmq'
import type { Meter } from '@opentelemetry/api'
import { currentTraceparent } from './kafka/headers.ts'
import { keepTrying } from './lifecycle.ts'
import { contextOf, inSpan, SpanKind } from './telemetry/trace.ts'
import type { Logger } from './logger.ts'
import type { Valkey } from './valkey.ts'

/** A BullMQ queue on an iovalkey connection (BullMQ duck-types it as ioredis). */
export function createQueue<T>(name: string, connection: Valkey, prefix: string, log: Logger): Queue<T> {
  const queue = new Queue<T>(name, {
    connection: connection,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { count: 1000 },
      // Failed jobs stay for inspection.
      removeOnFail: false,
    },
  })
  // Without a listener BullMQ prints every connection error to the console.
  let down = false
  queue.on('error', (err: Error) => {
    if (!down) log.warn({ queue: name, err: err.message }, 'queue connection error')
    down = true
  })
  return queue
}

/** Job data carrying the current trace, so the job's span continues it (createWorker). */
export function traced<T extends object>(data: T): T & { traceparent?: string } {
  const traceparent = currentTraceparent()
  return traceparent ? { ...data, traceparent } : data
}

/** A BullMQ worker that logs failures; processors are entry points calling domain code. */
export function createWorker<T>(
  name: string,
  processor: Processor<T>,
  connection: Valkey,
  prefix: string,
  log: Logger,
  concurrency = 1,
): Worker<T> {
  // A job runs in a span that continues the trace of whoever queued it (data.traceparent, see traced()).
  const traced: Processor<T> = (job, token, signal) =>
    inSpan(
      `${name} ${job.name}`,
      SpanKind.CONSUMER,
      contextOf((job.data as { traceparent?: string } | undefined)?.traceparent),
      { 'messaging.system': 'bullmq', 'messaging.destination.name': name, 'messaging.message.id': job.id ?? '' },
      async () => (await processor(job, token, signal)) as unknown,
    )
  const worker = new Worker<T>(name, traced, { connection: connection, prefix, concurrency, autorun: true })
  worker.on('failed', (job: Job<T> | undefined, err: Error) =>
    log.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'),
  )
  let errors = 0
  worker.on('error', (err: Error) => {
    // One line per outage, not one per reconnect attempt.
    if (errors++ % 100 === 0) log.warn({ queue: name, err: err.message, errors }, 'worker error')
  })
  worker.on('ready', () => (errors = 0))
  return worker
}

// Queues of any job data: only their names, counts and finished jobs are read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyQueue = readonly [Queue<any>, Worker<any>]

/** Queue metrics for a service's BullMQ queues: jobs by queue and state (sampled when scraped) and job durations. */
export function queueMetrics(meter: Meter, service: string, pairs: readonly AnyQueue[]): void {
  const jobs = meter.createObservableGauge(`${service}_queue_jobs`, { description: 'BullMQ jobs by queue and state' })
  jobs.addCallback(async (result) => {
    for (const [queue] of pairs) {
      // BullMQ waits for Valkey without limit; a scrape must not, so a slow or absent answer reports nothing.
      const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000).unref())
      const counts = await Promise.race([queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'), timeout]).catch(
        () => undefined,
      )
      for (const [state, n] of Object.entries(counts ?? {})) result.observe(n, { queue: queue.name, state })
    }
  })
  const duration = meter.createHistogram(`${service}_job_duration_seconds`, { description: 'BullMQ job run time', unit: 's' })
  for (const [queue, worker] of pairs) {
    const record = (job: Job | undefined, outcome: string) => {
      if (job?.processedOn && job.finishedOn)
        duration.record((job.finishedOn - job.processedOn) / 1000, { queue: queue.name, name: job.name, outcome })
    }
    worker.on('completed', (job: Job) => record(job, 'completed'))
    worker.on('failed', (job: Job | undefined) => record(job, 'failed'))
  }
}

/**
 * Upserts job schedulers (cron jobs) now, retrying until Valkey takes them, and again every time
 * the jobs connection is ready after a reconnect. A Valkey that comes back empty (a restart
 * without persistence, a failover to an empty replica) has lost them, and nothing else puts them
 * back before the service restarts: the fault suite saw Loyalty's reservation hold stop releasing
 * after Valkey was restarted. Upserting is idempotent (replicas starting together already rely on it).
 */
export function keepScheduled(connection: Valkey, name: string, upsert: () => Promise<void>, signal: AbortSignal, log: Logger): void {
  let running = false
  let again = false
  const run = (): void => {
    if (signal.aborted) return
    if (running) {
      again = true // a reconnect while upserting: what was upserted may be gone already
      return
    }
    running = true
    void keepTrying(name, upsert, signal, log).finally(() => {
      running = false
      if (again) {
        again = false
        run()
      }
    })
  }
  connection.on('ready', run)
  signal.addEventListener('abort', () => connection.off('ready', run), { once: true })
  if (connection.status !== 'ready') return // its first 'ready' runs it
  run()
}
