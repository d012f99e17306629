/** How much to fuzz, read from FUZZ_* variables; the defaults fit CI. */
export interface FuzzOptions {
  /** FUZZ_SEED: any text; the same seed sends the same requests (to the same kind of world). */
  seed: string
  /** FUZZ_CALLS: fuzzed calls per service, after one seed probe per method and role. */
  callsPerService: number
  /** FUZZ_ONLY: replay reported cases, e.g. `customer:37,order:5`. */
  only: ReadonlyMap<string, readonly number[]> | undefined
  /** FUZZ_REPORT: a file to write the findings to as JSON. */
  reportFile: string | undefined
}

const DEFAULT_SEED = '1'
const DEFAULT_CALLS = 300

export function fuzzOptions(env: NodeJS.ProcessEnv = process.env): FuzzOptions {
  const calls = Number(env['FUZZ_CALLS'] ?? DEFAULT_CALLS)
  if (!Number.isInteger(calls) || calls < 0)
    throw new Error(`FUZZ_CALLS must be a whole number of calls per service, not ${env['FUZZ_CALLS']}`)
  let only: Map<string, number[]> | undefined
  if (env['FUZZ_ONLY']) {
    only = new Map()
    for (const item of env['FUZZ_ONLY'].split(',')) {
      const match = /^\s*(\w+):(\d+)\s*$/.exec(item)
      if (!match) throw new Error(`FUZZ_ONLY takes service:index pairs such as customer:37,order:5, not "${item}"`)
      only.set(match[1]!, [...(only.get(match[1]!) ?? []), Number(match[2])])
    }
  }
  return { seed: env['FUZZ_SEED'] || DEFAULT_SEED, callsPerService: calls, only, reportFile: env['FUZZ_REPORT'] || undefined }
}
