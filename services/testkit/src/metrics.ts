/** A Prometheus /metrics page, as Prometheus scrapes it. */
export async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`)
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`)
  return response.text()
}

/**
 * The value of the sample named `name` whose labels include `labels` (others may be present, in
 * any order), or undefined when there is none. Fails when several samples match: a test names
 * enough labels to mean one series.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = text.split('\n').filter((line) => {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) return false
    return Object.entries(labels).every(([k, v]) => line.includes(`{${k}="${v}"`) || line.includes(`,${k}="${v}"`))
  })
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}`)
  const [line] = matching
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}
