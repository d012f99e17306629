import { groupLag, withAdmin } from '@brewmesh/testkit/kafka.ts'
import { durableGroups } from './invariants.ts'

/** The durable groups' lag (all topics together) at one moment. */
export interface LagSample {
  at: number
  lag: Record<string, number>
}

/**
 * Samples the durable consumer groups' lag every few seconds while a phase runs, so the report
 * shows how far each fell behind during each fault and whether it was still catching up. A
 * sample that cannot be taken (Kafka is down) is skipped.
 */
export function sampleLag(brokers: string, topicSuffix: string, everyMs = 5000) {
  const samples: LagSample[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const at = Date.now()
      try {
        const lag = await withAdmin(brokers, async (admin) => {
          const totals: Record<string, number> = {}
          for (const [group, topics] of Object.entries(durableGroups(topicSuffix)))
            totals[group] = Object.values(await groupLag(admin, group, topics)).reduce((a, b) => a + b, 0)
          return totals
        })
        samples.push({ at, lag })
      } catch {
        // Kafka away: nothing to sample.
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - at))))
    }
  })()
  return {
    samples,
    async stop() {
      running = false
      await loop
    },
  }
}

/** Every group's lag on every topic it committed to (per-replica groups included): who was left behind. */
export async function lagOfEveryGroup(brokers: string): Promise<Record<string, number>> {
  return withAdmin(brokers, async (admin) => {
    const totals: Record<string, number> = {}
    for (const { groupId } of (await admin.listGroups()).groups)
      totals[groupId] = Object.values(await groupLag(admin, groupId)).reduce((a, b) => a + b, 0)
    return totals
  })
}
