/**
 * The sequence view of a recurrent model fed a lat/lon field line by line (lrp-lens.json `input.sequence`:
 * longitude as time, say): the mean |R| share as a (time x feature) map in feeding order, its profile
 * per step, and the fading-memory figure: an exponential decay from the last step fitted to that profile,
 * ln p_t = c - k (T - 1 - t) by least squares over the steps with relevance, half-life ln 2 / k steps
 * (infinite when the profile does not decay). Works on the report's maps on the data grid, so it needs
 * the pipeline's inverse of the sequence mode (session/data-grid.ts puts the relevance back there).
 */
import type { ModelGraph } from '../model/graph.js';
import type { DisplayGrid } from '../session/data-grid.js';

const CHANNEL_DIMS = new Set(['channel', 'variable']);

export interface FadingMemory {
  /** Steps over which the fitted per-step share halves going back from the last step; Infinity: no decay. */
  halfLife: number;
  /** The fitted decay rate k per step (negative: relevance grows towards the first step). */
  rate: number;
  /** ln of the fitted share at the last step (the curve is exp(intercept - rate d), d steps before the last). */
  intercept: number;
  /** Coefficient of determination of the fit on ln p_t: how exponential the profile is. */
  r2: number;
  /** Steps used (those with relevance). */
  steps: number;
  /** Share of the steps that hold under 1 % of the relevance each. */
  quietShare: number;
}

export interface SequenceView {
  /** The grid axis fed as time, and whether it is fed from its last index to its first. */
  time: 'lat' | 'lon';
  reverse: boolean;
  steps: number;
  features: number;
  /** Coordinate (degrees) of each step in feeding order, and of each feature. */
  stepCoords: number[];
  featureCoords: number[];
  /** Mean |R| share per (step, feature), feeding order, row-major [steps][features]. */
  map: Float64Array;
  /** Share of |R| per step (sums to 1). */
  perStep: Float64Array;
  fading: FadingMemory;
  /** First and last step (feeding order) and feature that hold part of the Nino-3.4 box. */
  ninoSteps?: [number, number];
  ninoFeatures?: [number, number];
}

/** Where a recurrent model's input came from a grid in sequence mode: the time axis, else undefined. */
export function sequenceAxis(graph: ModelGraph, grid: DisplayGrid): { time: 'lat' | 'lon'; reverse: boolean } | undefined {
  const seq = grid.sequence;
  if (!seq || !graph.nodes.some((n) => n.kind === 'Recurrent')) return undefined;
  const spatial = seq.gridDims.filter((d) => !CHANNEL_DIMS.has(d));
  const k = spatial.indexOf(seq.timeDim);
  const time = grid.inputDims[k];
  return time ? { time, reverse: seq.reverse } : undefined;
}

/** Least-squares exponential decay from the last step of a per-step profile (see the module comment). */
export function fitFadingMemory(perStep: ArrayLike<number>): FadingMemory {
  const T = perStep.length;
  let total = 0;
  for (let t = 0; t < T; t++) total += perStep[t];
  const pts: [number, number][] = [];
  let quiet = 0;
  for (let t = 0; t < T; t++) {
    const p = total > 0 ? perStep[t] / total : 0;
    if (p < 0.01) quiet++;
    if (p > 0) pts.push([T - 1 - t, Math.log(p)]);
  }
  const n = pts.length;
  if (n < 2) return { halfLife: NaN, rate: NaN, intercept: NaN, r2: NaN, steps: n, quietShare: T ? quiet / T : NaN };
  const md = pts.reduce((a, [d]) => a + d, 0) / n;
  const ml = pts.reduce((a, [, l]) => a + l, 0) / n;
  let sdd = 0;
  let sdl = 0;
  let sll = 0;
  for (const [d, l] of pts) {
    sdd += (d - md) ** 2;
    sdl += (d - md) * (l - ml);
    sll += (l - ml) ** 2;
  }
  const slope = sdd > 0 ? sdl / sdd : 0;
  const rate = -slope;
  return { halfLife: rate > 0 ? Math.LN2 / rate : Infinity, rate, intercept: ml - slope * md, r2: sdd > 0 && sll > 0 ? (sdl * sdl) / (sdd * sll) : 0, steps: n, quietShare: quiet / T };
}

/**
 * The view of a per-cell map on the data grid (h x w, the grid's coordinate order) fed along `time`.
 * `nino`: per-cell weights of the Nino-3.4 box on the same grid.
 */
export function sequenceView(grid: Pick<DisplayGrid, 'h' | 'w' | 'lat' | 'lon'>, axis: { time: 'lat' | 'lon'; reverse: boolean }, cells: ArrayLike<number>, nino?: ArrayLike<number>): SequenceView {
  const { h, w } = grid;
  const byLon = axis.time === 'lon';
  const T = byLon ? w : h;
  const F = byLon ? h : w;
  const cellOf = (t: number, f: number): number => {
    const s = axis.reverse ? T - 1 - t : t;
    return byLon ? f * w + s : s * w + f;
  };
  const map = new Float64Array(T * F);
  const perStep = new Float64Array(T);
  let total = 0;
  let first = -1;
  let last = -1;
  let f0 = Infinity;
  let f1 = -1;
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < F; f++) {
      const i = cellOf(t, f);
      const v = Number.isFinite(cells[i]) ? Math.abs(cells[i]) : 0;
      map[t * F + f] = v;
      perStep[t] += v;
      if (nino && nino[i] > 0) {
        if (first < 0) first = t;
        last = t;
        f0 = Math.min(f0, f);
        f1 = Math.max(f1, f);
      }
    }
    total += perStep[t];
  }
  if (total > 0) for (let t = 0; t < T; t++) perStep[t] /= total;
  const coords = (a: number[]): number[] => (axis.reverse ? [...a].reverse() : a.slice());
  return {
    time: axis.time,
    reverse: axis.reverse,
    steps: T,
    features: F,
    stepCoords: coords(byLon ? grid.lon : grid.lat),
    featureCoords: (byLon ? grid.lat : grid.lon).slice(),
    map,
    perStep,
    fading: fitFadingMemory(perStep),
    ninoSteps: first >= 0 ? [first, last] : undefined,
    ninoFeatures: first >= 0 ? [f0, f1] : undefined,
  };
}
