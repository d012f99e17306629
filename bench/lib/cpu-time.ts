import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let ticksPerSecond: number | undefined

/** Clock ticks per second of the times in /proc (`getconf CLK_TCK`, normally 100). */
export function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  return ticksPerSecond
}

/**
 * CPU time of a process in ms from /proc/<pid>/stat: user + system of all its threads, plus the
 * same of the children it has waited for (a postmaster's exited backends, a Valkey fork that
 * saved a snapshot). Undefined when the process is gone.
 */
export function cpuTimeMs(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  // fields[0] is field 3 (state); utime, stime, cutime and cstime are fields 14 to 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0)
  return (ticks * 1000) / clockTicks()
}

/** Processes whose CPU counts together, looked up again at every sample (backends come and go). */
export interface ProcessGroup {
  name: string
  pids: () => number[]
}

/** CPU ms per pid, per group, at one moment. */
export type CpuSample = Map<string, Map<number, number>>

export function sampleCpu(groups: ProcessGroup[]): CpuSample {
  const sample: CpuSample = new Map()
  for (const group of groups) {
    const times = new Map<number, number>()
    for (const pid of group.pids()) {
      const ms = cpuTimeMs(pid)
      if (ms !== undefined) times.set(pid, ms)
    }
    sample.set(group.name, times)
  }
  return sample
}

/**
 * CPU ms each group used between two samples; undefined for a group with no process. A process
 * that started in between counts in full; one that exited counts through its parent's children
 * times, when the parent is in the group and has waited for it.
 */
export function cpuMsBetween(before: CpuSample, after: CpuSample): Record<string, number | undefined> {
  const used: Record<string, number | undefined> = {}
  for (const [name, times] of after) {
    const earlier = before.get(name) ?? new Map<number, number>()
    if (times.size === 0 && earlier.size === 0) {
      used[name] = undefined
      continue
    }
    let ms = 0
    for (const [pid, now] of times) ms += now - (earlier.get(pid) ?? 0)
    used[name] = ms
  }
  return used
}

/** The sum over groups, groups without a process counting 0. */
export const totalCpuMs = (used: Record<string, number | undefined>) => Object.values(used).reduce<number>((sum, ms) => sum + (ms ?? 0), 0)

/**
 * Waits until `groups` together use less than `busyMsPerSecond` of CPU over one second (work
 * that trails a load: consumers catching up, jobs), at most `timeoutMs`. Says whether they did.
 */
export async function untilQuiet(
  groups: ProcessGroup[],
  busyMsPerSecond: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  let before = sampleCpu(groups)
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    signal?.throwIfAborted()
    const after = sampleCpu(groups)
    if (totalCpuMs(cpuMsBetween(before, after)) < busyMsPerSecond) return true
    before = after
  }
  return false
}

/** CPU ms per second each group uses over a window of `ms` (with nothing else asked of them: their idle cost). */
export async function cpuPerSecond(groups: ProcessGroup[], ms: number, signal?: AbortSignal): Promise<Record<string, number | undefined>> {
  const before = sampleCpu(groups)
  await new Promise((resolve) => setTimeout(resolve, ms))
  signal?.throwIfAborted()
  const used = cpuMsBetween(before, sampleCpu(groups))
  return Object.fromEntries(Object.entries(used).map(([name, v]) => [name, v === undefined ? undefined : (v * 1000) / ms]))
}
