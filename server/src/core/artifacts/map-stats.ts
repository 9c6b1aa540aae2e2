/**
 * Statistics on relevance maps, in plain TypeScript on Float32Arrays (no tfjs: the checks must run on
 * maps from anywhere and stay cheap). Layout: n samples x [H, W, C] channels-last (or [L, C], or [F]).
 */

export interface Grid {
  h: number;
  w: number;
  c: number;
}

/** The spatial grid of an input shape without batch; a vector input is a 1 x F grid of one channel. */
export function gridOf(shape: number[]): Grid {
  if (shape.length >= 3) return { h: shape[0], w: shape[1], c: shape.slice(2).reduce((a, b) => a * b, 1) };
  if (shape.length === 2) return { h: 1, w: shape[0], c: shape[1] };
  return { h: 1, w: shape[0] ?? 0, c: 1 };
}

/**
 * Mean share of |R| per cell (channels summed), each sample normalized to total 1 first so every sample
 * weighs the same. Length h*w; sums to 1 (or 0 when all maps are zero).
 */
export function meanAbsShare(rel: Float32Array, n: number, g: Grid): Float64Array {
  const cells = g.h * g.w;
  const per = cells * g.c;
  const acc = new Float64Array(cells);
  let used = 0;
  for (let s = 0; s < n; s++) {
    let tot = 0;
    for (let i = 0; i < per; i++) {
      const v = rel[s * per + i];
      if (Number.isFinite(v)) tot += Math.abs(v);
    }
    if (!(tot > 0)) continue;
    used++;
    for (let i = 0; i < per; i++) {
      const v = rel[s * per + i];
      if (Number.isFinite(v)) acc[Math.floor(i / g.c)] += Math.abs(v) / tot;
    }
  }
  if (used > 0) for (let i = 0; i < cells; i++) acc[i] /= used;
  return acc;
}

export interface BandRatios {
  /** Mean over the band cells / mean over the interior, per side and over the whole rim. */
  top: number;
  bottom: number;
  left: number;
  right: number;
  all: number;
  band: number;
}

/** Border band of `band` cells vs the interior (cells at least `band` from every edge). 1-D grids (h = 1) only use left/right. */
export function borderBand(map: Float64Array, g: Grid, band: number): BandRatios {
  const { h, w } = g;
  const vertical = h > 1;
  let inSum = 0, inN = 0;
  const side = { top: [0, 0], bottom: [0, 0], left: [0, 0], right: [0, 0], all: [0, 0] };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = map[y * w + x];
      const t = vertical && y < band, b = vertical && y >= h - band, l = x < band, r = x >= w - band;
      if (t) { side.top[0] += v; side.top[1]++; }
      if (b) { side.bottom[0] += v; side.bottom[1]++; }
      if (l) { side.left[0] += v; side.left[1]++; }
      if (r) { side.right[0] += v; side.right[1]++; }
      if (t || b || l || r) { side.all[0] += v; side.all[1]++; }
      else { inSum += v; inN++; }
    }
  const inMean = inN > 0 ? inSum / inN : NaN;
  const ratio = (a: number[]): number => (a[1] > 0 && inMean > 0 ? a[0] / a[1] / inMean : NaN);
  return { top: ratio(side.top), bottom: ratio(side.bottom), left: ratio(side.left), right: ratio(side.right), all: ratio(side.all), band };
}

export type Side = 'top' | 'bottom' | 'left' | 'right';

/** Calls `f` with the index of every cell of the line `d` cells in from edge `side`. */
export function forLine(g: Grid, side: Side, d: number, f: (index: number) => void): void {
  if (side === 'top' || side === 'bottom') {
    const y = side === 'top' ? d : g.h - 1 - d;
    for (let x = 0; x < g.w; x++) f(y * g.w + x);
  } else {
    const x = side === 'left' ? d : g.w - 1 - d;
    for (let y = 0; y < g.h; y++) f(y * g.w + x);
  }
}

/**
 * Mean of the map over each line of cells parallel to an edge, nearest line first: `band` lines per side
 * (rows for top/bottom, columns for left/right; a 1-D grid has only left/right). Zero padding acts most on
 * the outermost line (fewest windows cover it) and fades inwards, which a band mean would dilute.
 */
export function edgeProfiles(map: Float64Array, g: Grid, band: number): Record<Side, number[]> {
  const lines = (side: Side, n: number, len: number): number[] =>
    Array.from({ length: Math.min(band, n) }, (_, d) => {
      let s = 0;
      forLine(g, side, d, (i) => (s += map[i]));
      return s / len;
    });
  const vertical = g.h > 1;
  return {
    top: vertical ? lines('top', g.h, g.w) : [],
    bottom: vertical ? lines('bottom', g.h, g.w) : [],
    left: lines('left', g.w, g.h),
    right: lines('right', g.w, g.h),
  };
}

/**
 * Per sample, the edge profiles of its own |R| normalized to total 1 (channels summed): n entries of
 * edgeProfiles. Samples whose map is all zero give NaN lines.
 */
export function edgeProfilesPerSample(rel: Float32Array, n: number, g: Grid, band: number): Record<Side, number[]>[] {
  const out: Record<Side, number[]>[] = [];
  for (let s = 0; s < n; s++) out.push(edgeProfiles(meanAbsShare(rel.subarray(s * g.h * g.w * g.c, (s + 1) * g.h * g.w * g.c), 1, g), g, band));
  return out;
}

/** Median of the finite values (NaN when there are none). */
export function median(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** One-sided sign test: P(at least k of n fair coin flips land the same way). */
export function signTestP(k: number, n: number): number {
  if (n <= 0) return 1;
  // log C(n, i) summed in log space: stable for a few thousand samples.
  let logC = 0;
  const terms: number[] = [];
  for (let i = 0; i <= n; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    if (i >= k) terms.push(logC - n * Math.LN2);
  }
  return Math.min(1, terms.reduce((a, t) => a + Math.exp(t), 0));
}

/**
 * Stride-phase folding: cells grouped by (y mod p, x mod p) [1-D: x mod p], ratio of the largest to the
 * smallest class mean. 1 for a map with no grid; large where a stride covers some phases more.
 * The border band is left out so padding does not pose as a phase effect.
 */
export function phaseRatio(map: Float64Array, g: Grid, period: number, margin = 0): number {
  const py = g.h > 1 ? period : 1;
  const sums = new Float64Array(py * period);
  const counts = new Float64Array(py * period);
  for (let y = margin; y < g.h - margin || (g.h === 1 && y === 0); y++) {
    for (let x = margin; x < g.w - margin; x++) {
      const k = (y % py) * period + (x % period);
      sums[k] += map[y * g.w + x];
      counts[k]++;
    }
    if (g.h === 1) break;
  }
  let lo = Infinity, hi = -Infinity;
  for (let k = 0; k < sums.length; k++) {
    if (counts[k] === 0) continue;
    const m = sums[k] / counts[k];
    lo = Math.min(lo, m);
    hi = Math.max(hi, m);
  }
  if (!(hi > 0)) return NaN;
  return lo > 0 ? hi / lo : Infinity;
}

/** Share of exactly-zero values. */
export function zeroShare(a: Float32Array): number {
  let z = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === 0) z++;
  return a.length ? z / a.length : NaN;
}

/** Gini coefficient of |a| (0 = evenly spread, 1 = all on one value). */
export function gini(a: Float32Array | Float64Array): number {
  const v = Float64Array.from(a, (x) => Math.abs(x)).sort();
  const n = v.length;
  let cum = 0, weighted = 0;
  for (let i = 0; i < n; i++) {
    cum += v[i];
    weighted += (i + 1) * v[i];
  }
  if (!(cum > 0)) return NaN;
  return (2 * weighted) / (n * cum) - (n + 1) / n;
}

/** Mean of a per-sample statistic over n samples of `per` values each, skipping NaN. */
export function perSampleMean(n: number, per: number, f: (s: number, off: number) => number): number {
  let acc = 0, k = 0;
  for (let s = 0; s < n; s++) {
    const v = f(s, s * per);
    if (Number.isFinite(v)) { acc += v; k++; }
  }
  return k ? acc / k : NaN;
}

/** Share of |R| that is negative. */
export function negativeShare(a: Float32Array): number {
  let neg = 0, tot = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) continue;
    tot += Math.abs(v);
    if (v < 0) neg -= v;
  }
  return tot > 0 ? neg / tot : NaN;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>, off = 0, len = a.length - off, offB = off): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < len; i++) {
    const x = a[off + i], y = b[offB + i];
    ab += x * y; aa += x * x; bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
}

/** Pearson correlation; `abs` correlates |a| with |b|. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>, off = 0, len = a.length - off, abs = false, offB = off): number {
  let sa = 0, sb = 0;
  const get = (arr: ArrayLike<number>, i: number): number => (abs ? Math.abs(arr[i]) : arr[i]);
  for (let i = 0; i < len; i++) { sa += get(a, off + i); sb += get(b, offB + i); }
  const ma = sa / len, mb = sb / len;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < len; i++) {
    const x = get(a, off + i) - ma, y = get(b, offB + i) - mb;
    ab += x * y; aa += x * x; bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
}

/** Share of total |R| that falls on cells where `mask` is 1 (mask over one sample's values, or cells when shorter). */
export function shareOn(rel: Float32Array, n: number, mask: Uint8Array, per: number): number {
  const cstride = per / mask.length; // channels per mask cell
  let on = 0, tot = 0;
  for (let s = 0; s < n; s++)
    for (let i = 0; i < per; i++) {
      const v = Math.abs(rel[s * per + i]);
      if (!Number.isFinite(v)) continue;
      tot += v;
      if (mask[Math.floor(i / cstride)]) on += v;
    }
  return tot > 0 ? on / tot : NaN;
}

export function countNonFinite(a: Float32Array): number {
  let k = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) k++;
  return k;
}

/**
 * How far each sample's map follows a control's phase pattern (LRP203): cells grouped by stride phase
 * (as phaseRatio), the phase classes the control map covers more than their average called "high";
 * per sample, mean |R| share on high-phase cells over mean share on the others (interior only). One
 * value per sample; empty when the control has no phase contrast (every class the same).
 */
export function phaseAlignment(rel: Float32Array, n: number, g: Grid, control: Float64Array, period: number, margin = 0): number[] {
  const py = g.h > 1 ? period : 1;
  const k = py * period;
  const cls = new Int32Array(g.h * g.w).fill(-1);
  const sums = new Float64Array(k), counts = new Float64Array(k);
  for (let y = g.h > 1 ? margin : 0; y < (g.h > 1 ? g.h - margin : 1); y++)
    for (let x = margin; x < g.w - margin; x++) {
      const c = (y % py) * period + (x % period);
      cls[y * g.w + x] = c;
      sums[c] += control[y * g.w + x];
      counts[c]++;
    }
  const means = Array.from(sums, (s, c) => (counts[c] ? s / counts[c] : NaN));
  const finite = means.filter(Number.isFinite);
  const avg = finite.reduce((a, b) => a + b, 0) / (finite.length || 1);
  // Classes within 1e-6 of the average are neither: a control without contrast has no high classes.
  const high = means.map((m) => m > avg * (1 + 1e-6));
  const low = means.map((m) => m < avg * (1 - 1e-6));
  if (!high.some(Boolean) || !low.some(Boolean)) return [];
  const out: number[] = [];
  for (let s = 0; s < n; s++) {
    const share = meanAbsShare(rel.subarray(s * g.h * g.w * g.c, (s + 1) * g.h * g.w * g.c), 1, g);
    let h = 0, hc = 0, l = 0, lc = 0;
    for (let i = 0; i < cls.length; i++) {
      const c = cls[i];
      if (c < 0) continue;
      if (high[c]) { h += share[i]; hc++; } else if (low[c]) { l += share[i]; lc++; }
    }
    out.push(hc && lc && l > 0 ? h / hc / (l / lc) : NaN);
  }
  return out;
}

/**
 * Block roughness of one sample's |R| (channels summed) at block size b (LRP204): over every b x b
 * window, the root of the summed squared deviation from the window's mean over the summed squared
 * means. 0 for a map that is constant at that scale; large where relevance sits on one cell of each
 * block (what winner-take-all pooling leaves).
 */
export function blockRoughness(rel: Float32Array, off: number, g: Grid, b: number): number {
  const cells = new Float64Array(g.h * g.w);
  for (let i = 0; i < g.h * g.w * g.c; i++) {
    const v = rel[off + i];
    if (Number.isFinite(v)) cells[Math.floor(i / g.c)] += Math.abs(v);
  }
  const by = g.h > 1 ? b : 1;
  let num = 0, den = 0;
  for (let y = 0; y + by <= g.h; y++)
    for (let x = 0; x + b <= g.w; x++) {
      let m = 0;
      for (let dy = 0; dy < by; dy++) for (let dx = 0; dx < b; dx++) m += cells[(y + dy) * g.w + x + dx];
      m /= by * b;
      for (let dy = 0; dy < by; dy++) for (let dx = 0; dx < b; dx++) num += (cells[(y + dy) * g.w + x + dx] - m) ** 2;
      den += by * b * m * m;
    }
  return den > 0 ? Math.sqrt(num / den) : NaN;
}

/**
 * Paired comparison over samples: the median of a / b, and a one-sided sign test that the samples lean
 * the way the median does (pairs with a non-finite value are left out). What every controlled map check
 * reports: statistic, control, effect (median ratio) and p.
 */
export function pairedRatio(a: number[], b: number[]): { median: number; agree: number; p: number; n: number } {
  const r: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const q = a[i] / b[i];
    if (Number.isFinite(q) && q > 0) r.push(q);
  }
  const m = median(r);
  const k = r.filter((q) => (m >= 1 ? q > 1 : q < 1)).length;
  return { median: m, agree: r.length ? k / r.length : 0, p: signTestP(k, r.length), n: r.length };
}

/** Paired comparison of two statistics that may be negative (correlations): the median of a - b and a one-sided sign test. */
export function pairedDifference(a: number[], b: number[]): { median: number; agree: number; p: number; n: number } {
  const d: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (Number.isFinite(a[i] - b[i])) d.push(a[i] - b[i]);
  const m = median(d);
  const k = d.filter((x) => (m >= 0 ? x > 0 : x < 0)).length;
  return { median: m, agree: d.length ? k / d.length : 0, p: signTestP(k, d.length), n: d.length };
}
