export interface SampleStats {
  runs: number;
  minMs: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

/** min/median/p95/max of durations in ms, rounded to 0.1 ms. */
export function sampleStats(samples: readonly number[]): SampleStats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
  const median = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
  const r = (n: number) => Math.round(n * 10) / 10;
  return { runs: s.length, minMs: r(s[0] ?? 0), medianMs: r(median), p95Ms: r(at(0.95)), maxMs: r(s[s.length - 1] ?? 0) };
}

/** Time one async call in ms. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
