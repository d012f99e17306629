import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { ProcessGroup } from './cpu-time.ts'

/** The pids `pgrep` finds for `args`; none when nothing matches. */
export function pgrep(args: string[]): number[] {
  try {
    return execFileSync('pgrep', args, { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

function environmentOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
  } catch {
    return []
  }
}

/** The pid of this process's child started with `key=value` in its environment. */
export function childWithEnv(key: string, value: string): number | undefined {
  return pgrep(['-P', String(process.pid)]).find((pid) => environmentOf(pid).includes(`${key}=${value}`))
}

/**
 * The shared servers as they run on this machine (scripts/stack.sh or containers on the same
 * kernel): every PostgreSQL process, the Valkey (or redis-server) process, the Kafka broker's JVM.
 */
export const infrastructureGroups = (): ProcessGroup[] => [
  { name: 'postgres', pids: () => pgrep(['-x', 'postgres']) },
  { name: 'valkey', pids: () => pgrep(['-x', 'valkey-server|redis-server']) },
  { name: 'kafka', pids: () => pgrep(['-f', 'kafka\\.Kafka']) },
]
