// The BullMQ area of runtime: job data that carries the trace of whoever queued it.
export { keepScheduled, traced } from '../jobs.ts'
