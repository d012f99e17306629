/** The suite's knobs, from FAULTS_* variables (defaults: what CI runs). */
export interface Settings {
  /** Orders placed per second, whatever the mesh answers (open loop). */
  ratePerSecond: number
  /** How long a caller retries one order before giving up. */
  giveUpMs: number
  households: number
  /** Share of acknowledged orders the customer cancels at once, and of paid orders the barista cancels. */
  customerCancelShare: number
  baristaCancelShare: number
  warmupMs: number
  kafkaDownMs: number
  valkeyDownMs: number
  /** How long recovery after a fault may take before the next one comes anyway (noted in the report). */
  recoveryBoundMs: number
  /** Quiet load after recovery, before the next fault. */
  calmMs: number
  /** After the load stops: how long placements still retrying get, then how long the mesh gets to settle. */
  drainMs: number
  settleMs: number
  /** Where the services' and servers' logs go and stay; unset: a temporary directory, deleted at the end. */
  logDir: string | undefined
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got "${raw}"`)
  return value
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    // 8 orders/s is what the mesh (four services, or eight processes, and a Kafka broker) keeps up
    // with on a shared 2-core CI machine, barista included: at the 20/s most placements are
    // shed (RESOURCE_EXHAUSTED) before any fault and the barista falls minutes behind, so the
    // figures measure the overload, not the faults. FAULTS_RATE=20 runs the driver.
    ratePerSecond: number(env, 'FAULTS_RATE', 8),
    giveUpMs: number(env, 'FAULTS_GIVE_UP_S', 60) * 1000,
    households: 6,
    customerCancelShare: 0.03,
    baristaCancelShare: 0.08,
    warmupMs: 6000,
    kafkaDownMs: number(env, 'FAULTS_KAFKA_DOWN_S', 30) * 1000,
    valkeyDownMs: number(env, 'FAULTS_VALKEY_DOWN_S', 10) * 1000,
    recoveryBoundMs: 60_000,
    calmMs: number(env, 'FAULTS_CALM_S', 4) * 1000,
    drainMs: 30_000,
    settleMs: number(env, 'FAULTS_SETTLE_S', 300) * 1000,
    logDir: env['FAULTS_LOG_DIR'] || undefined,
  }
}
