import { randomUUID } from 'node:crypto'
import type { Job } from 'bullmq'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { eventually, isolatedEnv } from '@brewmesh/testkit/env.ts'
import { createQueue, createWorker } from '@brewmesh/runtime/jobs'
import { createLogger } from '@brewmesh/runtime/logger'
import { closeValkey, createValkey, type Valkey } from '@brewmesh/runtime/valkey'
import { readConfig } from '../src/config.ts'
import { failedJobs, queuePrefix, queuesOf, retryFailedJobs } from '../src/failed-jobs.ts'

// Failed jobs stay in their queue "for inspection": the command lists them with their error and
// data, and retries the chosen ones once their cause is fixed.
const config = readConfig(isolatedEnv('ops', inject('infra').env))
const log = createLogger({ level: 'silent', service: 'test', instanceId: 'test' })
const prefix = queuePrefix(config.valkey.keyPrefix, 'loyalty')
const queueName = `loyalty-expiry-${randomUUID().slice(0, 8)}`
let valkey: Valkey
let jobs: Valkey
/** Customers whose expiry the processor can run: the others fail, until fixed. */
const fixed = new Set<string>()
const done: string[] = []

beforeAll(() => {
  valkey = createValkey(config.valkey, log, 'commands')
  jobs = createValkey(config.valkey, log, 'jobs')
})
afterAll(async () => {
  await closeValkey(jobs)
  await closeValkey(valkey)
})

describe('failed jobs: list and retry', () => {
  it('when a job failed for good and its cause is fixed, then a retry runs it to completion', async () => {
    const queue = createQueue<{ customerId: string }>(queueName, jobs, prefix, log)
    const worker = createWorker<{ customerId: string }>(
      queueName,
      async (job: Job<{ customerId: string }>) => {
        if (!fixed.has(job.data.customerId)) throw new Error(`no ledger for ${job.data.customerId}`)
        done.push(job.data.customerId)
      },
      jobs,
      prefix,
      log,
    )
    try {
      const customerId = randomUUID()
      const job = await queue.add('expire', { customerId }, { attempts: 1 })

      const [failed] = await eventually(async () => {
        const f = await failedJobs(valkey, prefix, [queueName])
        expect(f).toHaveLength(1)
        return f
      })
      expect(await queuesOf(valkey, prefix)).toContain(queueName)
      expect(failed).toMatchObject({
        queue: queueName,
        id: job.id,
        name: 'expire',
        attempts: 1,
        error: `no ledger for ${customerId}`,
        data: { customerId },
      })

      fixed.add(customerId)
      expect(await retryFailedJobs(valkey, prefix, queueName, [job.id!])).toEqual([job.id])

      await eventually(() => expect(done).toEqual([customerId]))
      expect(await failedJobs(valkey, prefix, [queueName])).toEqual([])
    } finally {
      await worker.close()
      await queue.obliterate({ force: true })
      await queue.close()
    }
  })

  it('when the named job is not failed, then nothing is retried', async () => {
    await expect(retryFailedJobs(valkey, prefix, queueName, ['no-such-job'])).rejects.toThrow('has no job no-such-job')
  })
})
