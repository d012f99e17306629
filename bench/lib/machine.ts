import { cpus, loadavg, release, totalmem } from 'node:os'

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  kernel: string
  node: string
}

/** What the numbers were measured on. */
export function machineInfo(): Machine {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
  }
}

/** The 1-minute load average: other work competing for the cores shows up here. */
export const loadNow = () => loadavg()[0] ?? 0

/** One line for a report: "2 x AMD EPYC, 24 GiB, Linux 6.x, Node v24.x". */
export const describeMachine = (m: Machine) => `${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}`
