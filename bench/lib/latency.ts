// Sub-millisecond latency histogram fed from autocannon's 'response' events (its own histogram is whole ms).

const BUCKET_MS = 0.01 // 10 µs resolution
const BUCKETS = 200_000 // up to 2 s; slower responses land in the last bucket (max is tracked exactly)

export class FineLatency {
  private readonly counts = new Uint32Array(BUCKETS)
  private total = 0
  private max = 0

  record(ms: number): void {
    const i = Math.min(BUCKETS - 1, Math.max(0, Math.floor(ms / BUCKET_MS)))
    this.counts[i] = (this.counts[i] ?? 0) + 1
    this.total++
    if (ms > this.max) this.max = ms
  }

  get count(): number {
    return this.total
  }

  /** Value at percentile p (0–100) in ms, as the upper edge of its 10 µs bucket; null when empty. */
  percentile(p: number): number | null {
    if (this.total === 0) return null
    const rank = Math.max(1, Math.ceil((p / 100) * this.total))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0
      if (seen >= rank) return i === BUCKETS - 1 ? this.max : Math.min(this.max, (i + 1) * BUCKET_MS)
    }
    return this.max
  }
}
