/**
 * A seeded pseudo-random source (sfc32, seeded by a cyrb128 hash of a string). Every fuzzed call
 * gets its own, derived from the run's seed, the service and the call's index, so one call can be
 * generated again on its own: the same seed and index give the same message.
 */
export class Random {
  private a: number
  private b: number
  private c: number
  private d: number

  private constructor([a, b, c, d]: [number, number, number, number]) {
    this.a = a
    this.b = b
    this.c = c
    this.d = d
    for (let i = 0; i < 12; i++) this.next() // sfc32 mixes poorly in its first outputs
  }

  /** The source for one name, e.g. `Random.of('1/customer/37')`. */
  static of(name: string): Random {
    return new Random(cyrb128(name))
  }

  /** A float in [0, 1). */
  next(): number {
    this.a >>>= 0
    this.b >>>= 0
    this.c >>>= 0
    this.d >>>= 0
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return (t >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.below(items.length)]!
  }

  /** One of the choices, each as likely as its weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0)
    let r = this.next() * total
    for (const [w, value] of choices) {
      r -= w
      if (r < 0) return value
    }
    return choices[choices.length - 1]![1]
  }

  /** 64 random bits as a signed bigint. */
  int64(): bigint {
    const hi = BigInt(Math.floor(this.next() * 4294967296))
    const lo = BigInt(Math.floor(this.next() * 4294967296))
    return BigInt.asIntN(64, (hi << 32n) | lo)
  }

  /** A version 4 UUID made from this source (so it repeats with the seed). */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.below(16).toString(16))
    hex[12] = '4'
    hex[16] = (8 + this.below(4)).toString(16)
    const s = hex.join('')
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
  }
}

/** cyrb128: four well-mixed 32-bit words from a string. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}
