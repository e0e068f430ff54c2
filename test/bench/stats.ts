// Small pure helpers of the benchmark: medians, ratios, sizes. Unit-tested in test/unit/bench-logic.test.ts.

/** The median of `values` (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `a / b` rounded to 3 decimals; NaN when `b` is not positive. */
export function ratio(a: number, b: number): number {
  return b > 0 ? round(a / b, 3) : Number.NaN;
}

export function round(value: number, decimals = 1): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

export const MiB = 1024 * 1024;

export const toMiB = (bytes: number, decimals = 1) => round(bytes / MiB, decimals);

/**
 * Runs each variant `runs` times, interleaved, so that a machine that gets busier or quieter during
 * the run affects every variant alike; each round starts one variant later than the one before
 * (a, b, c; b, c, a; c, a, b), so each variant takes every place in a round in turn, not always the
 * first or the last. The cyclic order stays the same: within a round, b still always follows a.
 */
export async function alternate<V extends Record<string, () => Promise<unknown>>>(
  runs: number,
  variants: V,
): Promise<{ [K in keyof V]: Awaited<ReturnType<V[K]>>[] }> {
  const keys = Object.keys(variants) as (keyof V)[];
  const results = {} as { [K in keyof V]: Awaited<ReturnType<V[K]>>[] };
  for (const key of keys) results[key] = [];
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(round + i) % keys.length] as keyof V;
      results[key].push((await (variants[key] as V[typeof key])()) as Awaited<ReturnType<V[typeof key]>>);
    }
  }
  return results;
}

/** Milliseconds since `start` (a performance.now() reading), rounded to 0.1 ms. */
export function since(start: number): number {
  return round(performance.now() - start, 1);
}

/** The nearest-rank `p`th percentile (0 < p <= 100) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}
