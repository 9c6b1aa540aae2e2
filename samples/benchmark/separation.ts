/**
 * How well a check's statistic separates its positive and negative cases, shared by the seeded benchmarks
 * (seeded-benchmark.ts, recurrent-benchmark.ts): a threshold chosen on the calibration seeds only, and the
 * ROC AUC on the held-out ones.
 */

/** A threshold between the two groups chosen on calibration values only: the midpoint of the gap, or the best split. */
export function chooseThreshold(pos: number[], neg: number[]): { threshold: number; separates: boolean } {
  const p = pos.filter(Number.isFinite), n = neg.filter(Number.isFinite);
  if (!p.length || !n.length) return { threshold: NaN, separates: false };
  const lo = Math.min(...p), hi = Math.max(...n);
  if (lo > hi) return { threshold: (lo + hi) / 2, separates: true };
  let best = { threshold: NaN, correct: -1 };
  for (const c of [...p, ...n].sort((a, b) => a - b)) {
    const correct = p.filter((v) => v >= c).length + n.filter((v) => v < c).length;
    if (correct > best.correct) best = { threshold: c, correct };
  }
  return { threshold: best.threshold, separates: false };
}

/** ROC AUC of "positive scores higher" (ties count half). */
export function auc(pos: number[], neg: number[]): number {
  let s = 0, k = 0;
  for (const a of pos) for (const b of neg) {
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    s += a > b ? 1 : a === b ? 0.5 : 0;
    k++;
  }
  return k ? s / k : NaN;
}
