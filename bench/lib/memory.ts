import { readFileSync } from 'node:fs'

/** The resident set of a process, in MiB, from `/proc/<pid>/status` (VmRSS). */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))
  return Number(line?.split(/\s+/)[1] ?? NaN) / 1024
}
