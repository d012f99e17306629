import { Queue } from 'bullmq'
import type { Valkey } from '@brewmesh/runtime/valkey'

/** A BullMQ job that exhausted its attempts (kept for inspection: runtime/jobs.ts removeOnFail: false). */
export interface FailedJob {
  queue: string
  id: string
  name: string
  attempts: number
  error: string
  failedAt: string | undefined
  data: unknown
}

/** Where a service's queues live: `<VALKEY_KEY_PREFIX>:<service>`, as the runtime names them. */
export const queuePrefix = (keyPrefix: string, service: string) => `${keyPrefix}:${service}`

/** The names of a service's queues, found by their BullMQ `meta` keys. */
export async function queuesOf(valkey: Valkey, prefix: string): Promise<string[]> {
  const names = new Set<string>()
  let cursor = '0'
  do {
    const [next, keys] = await valkey.scan(cursor, 'MATCH', `${prefix}:*:meta`, 'COUNT', 500)
    cursor = next
    for (const key of keys) names.add(key.slice(prefix.length + 1, -':meta'.length))
  } while (cursor !== '0')
  return [...names].sort()
}

function queueOf(valkey: Valkey, prefix: string, name: string): Queue {
  return new Queue(name, { connection: valkey, prefix })
}

/** The failed jobs of the named queues, newest first per queue. */
export async function failedJobs(valkey: Valkey, prefix: string, queues: readonly string[], limit = 100): Promise<FailedJob[]> {
  const jobs: FailedJob[] = []
  for (const name of queues) {
    const queue = queueOf(valkey, prefix, name)
    try {
      for (const job of await queue.getFailed(0, limit - 1)) {
        jobs.push({
          queue: name,
          id: job.id ?? '',
          name: job.name,
          attempts: job.attemptsMade,
          error: job.failedReason,
          failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
          data: job.data,
        })
      }
    } finally {
      await queue.close()
    }
  }
  return jobs
}

/**
 * Moves failed jobs of one queue back to waiting, with their attempts reset: the chosen ids, or
 * every failed job when none is named. Returns the ids retried. Jobs are written to be idempotent
 * (schedulers can duplicate them), so a retry of work that half happened is harmless.
 */
export async function retryFailedJobs(valkey: Valkey, prefix: string, queueName: string, ids: readonly string[]): Promise<string[]> {
  const queue = queueOf(valkey, prefix, queueName)
  try {
    const jobs = ids.length ? await Promise.all(ids.map((id) => queue.getJob(id))) : await queue.getFailed(0, -1)
    const retried: string[] = []
    for (const [i, job] of jobs.entries()) {
      if (!job) throw new Error(`${queueName} has no job ${ids[i]}`)
      if (!(await job.isFailed())) throw new Error(`${queueName} job ${job.id} is not failed`)
      await job.retry('failed', { resetAttemptsMade: true })
      retried.push(job.id ?? '')
    }
    return retried
  } finally {
    await queue.close()
  }
}
