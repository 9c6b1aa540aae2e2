/**
 * Shared pieces of the recurrent checks (LRP114-LRP116, LRP212-LRP216): which layers are recurrent,
 * whether a map is a sequence map ((time, features) per sample), and the statistics over its time axis.
 */
import type { LayerNode, LayerNodeOf, ModelGraph } from '../../model/graph.js';
import type { MapContext } from '../map-context.js';

export type RecurrentNode = LayerNodeOf<'Recurrent'>;

export function recurrentNodes(graph: ModelGraph): RecurrentNode[] {
  return graph.nodes.filter((n): n is RecurrentNode => n.kind === 'Recurrent');
}

/** Leak rate of a leaky-integrator (ESN) cell; 1 (no leak) for every other cell. */
export function leakOf(node: RecurrentNode): number {
  const a = node.params.leak;
  return typeof a === 'number' && a > 0 && a <= 1 ? a : 1;
}

/** The node feeding `node` (its first inbound), if any. */
export function inboundOf(graph: ModelGraph, node: LayerNode): LayerNode | undefined {
  return graph.nodes.find((n) => n.name === node.inbound[0]);
}

/**
 * A sequence map: the model has a recurrent layer and the maps are [T, F] per sample (a [batch, time,
 * features] input). Axis 0 of `ctx.shape` is time.
 */
export function isSequenceMap(ctx: MapContext): boolean {
  return ctx.shape.length === 2 && ctx.shape[0] > 1 && recurrentNodes(ctx.graph).length > 0;
}

/** How messages name the time axis: with the field's dim when lrp-lens.json says which one was fed as time. */
export function timeAxisName(ctx: MapContext): string {
  const q = ctx.sequence;
  return q ? `the time axis (the field's '${q.time}' dim${q.reverse ? ', fed in reverse' : ''})` : 'the time axis';
}

export function steps(ctx: MapContext): { T: number; F: number } {
  return { T: ctx.shape[0], F: ctx.shape[1] };
}

/** |values| summed per step of one sample: length T. */
export function stepSums(a: Float32Array, off: number, T: number, F: number): Float64Array {
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (let f = 0; f < F; f++) {
      const v = a[off + t * F + f];
      if (Number.isFinite(v)) s += Math.abs(v);
    }
    out[t] = s;
  }
  return out;
}

/**
 * Mean share of |a| per step over n samples, each sample normalized to total 1 first (samples with an
 * all-zero map are left out). Length T; sums to 1 (or is all 0).
 */
export function stepProfile(a: Float32Array, n: number, T: number, F: number): Float64Array {
  const acc = new Float64Array(T);
  let used = 0;
  for (let s = 0; s < n; s++) {
    const p = stepSums(a, s * T * F, T, F);
    const tot = p.reduce((x, y) => x + y, 0);
    if (!(tot > 0)) continue;
    used++;
    for (let t = 0; t < T; t++) acc[t] += p[t] / tot;
  }
  if (used > 0) for (let t = 0; t < T; t++) acc[t] /= used;
  return acc;
}

/**
 * Share of the variance of |a| over one sample's (T, F) cells that the time axis explains (eta squared
 * of a one-way split by step): 1 when every step is constant over its features (pure stripes across the
 * features), 0 when every step has the same mean. NaN for a constant map.
 */
export function timeVarianceShare(a: Float32Array, off: number, T: number, F: number): number {
  let m = 0;
  for (let i = 0; i < T * F; i++) m += Math.abs(a[off + i]);
  m /= T * F;
  let total = 0, between = 0;
  for (let t = 0; t < T; t++) {
    let mt = 0;
    for (let f = 0; f < F; f++) {
      const v = Math.abs(a[off + t * F + f]);
      mt += v;
      total += (v - m) * (v - m);
    }
    mt /= F;
    between += F * (mt - m) * (mt - m);
  }
  return total > 0 && Number.isFinite(total) ? between / total : NaN;
}

/** Most cells of a mean map a finding's data carries for the panel's overlays (a few KB of JSON). */
export const MAX_OVERLAY_CELLS = 4096;

/**
 * Mean share of |a| per cell over n samples of T x F cells, each sample normalized to total 1 first,
 * rounded to 4 significant digits (the panel's overlays draw it); undefined for maps over MAX_OVERLAY_CELLS.
 */
export function meanShareMap(a: Float32Array, n: number, T: number, F: number): number[] | undefined {
  const p = T * F;
  if (p > MAX_OVERLAY_CELLS) return undefined;
  const acc = new Float64Array(p);
  let used = 0;
  for (let s = 0; s < n; s++) {
    let tot = 0;
    for (let i = 0; i < p; i++) if (Number.isFinite(a[s * p + i])) tot += Math.abs(a[s * p + i]);
    if (!(tot > 0)) continue;
    used++;
    for (let i = 0; i < p; i++) if (Number.isFinite(a[s * p + i])) acc[i] += Math.abs(a[s * p + i]) / tot;
  }
  return Array.from(acc, (v) => (used ? Number((v / used).toPrecision(4)) : 0));
}

/** A step profile as a finding carries it: 4 significant digits. */
export function rounded(v: ArrayLike<number>): number[] {
  return Array.from(v, (x) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : 0));
}

/**
 * Exponential fit of a step profile against the distance from the step the memory starts at (the last
 * step for a forward layer, the first for a backward one): least squares of log(share) on distance over
 * the steps with a positive share. Returns the half-life in steps (Infinity when the profile does not
 * decay away from that end), the fit's R^2 and its share at distance 0.
 */
export function fitHalfLife(profile: Float64Array, fromEnd: boolean): { halfLife: number; r2: number; amplitude: number } {
  const T = profile.length;
  const xs: number[] = [], ys: number[] = [];
  for (let t = 0; t < T; t++) {
    if (!(profile[t] > 0)) continue;
    xs.push(fromEnd ? T - 1 - t : t);
    ys.push(Math.log(profile[t]));
  }
  if (xs.length < 3) return { halfLife: NaN, r2: NaN, amplitude: NaN };
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxy / sxx;
  const r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : NaN;
  // amplitude: the fitted share at distance 0, so share(d) = amplitude * 2^(-d / halfLife) redraws the curve.
  return { halfLife: slope < 0 ? Math.LN2 / -slope : Infinity, r2, amplitude: Math.exp(my - slope * mx) };
}

/** Where the memory of the first recurrent layer that reads the sequence starts: the last step, or the first for a backward layer. */
export function memoryFromEnd(graph: ModelGraph): boolean {
  const r = recurrentNodes(graph)[0];
  return !r || r.params.direction !== 'backward';
}

/** Retention per step, from the weights: the fraction of the state a step carries on, at rest. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Steps until a retention of `r` per step leaves less than `floor` (1 %): ln(floor) / ln(r). */
export function horizonSteps(retention: number, floor = 0.01): number {
  if (!(retention > 0)) return 1;
  if (retention >= 1) return Infinity;
  return Math.log(floor) / Math.log(retention);
}
