// Small statistics helpers for aggregating repeated bench runs.

/** Median of a non-empty list (mean of the two middle values for even lengths); null for an empty list. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const hi = sorted[mid] as number
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] as number) + hi) / 2
}

export function maxOrNull(values: readonly (number | null)[]): number | null {
  let max: number | null = null
  for (const v of values) if (v !== null && (max === null || v > max)) max = v
  return max
}

export function sumCounts(maps: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v
  return out
}
