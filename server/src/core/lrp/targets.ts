/**
 * What to explain, and the relevance the backward pass starts from. The engines see the model output
 * flattened per sample, channels-last (a classifier's class index is its flat index); pixel and region
 * targets address the output map by its own axes (rows, cols[, depth] and channel) and are turned into
 * flat indices here, in one place (`selectionOf`). Initialisation: 'onehot' (Zennit: the seed weights, 1
 * at the target, 1/n over a region's n outputs for a mean) or 'output' (iNNvestigate, Captum: the weights
 * times the outputs' values). Either way the explained value is sum(weights * outputs), and a conserving
 * rule's input relevance sums to it (for 'output'; for 'onehot' to sum(weights)).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { LensError } from '../errors.js';
import type { InitMode } from './composites.js';

type TF = typeof tfTypes;
type Tensor = tfTypes.Tensor;

export { type TargetReduce, type TargetSpec, type OutputTargetSpec, parseTarget, outputTargetSpec, formatTarget } from '../target-spec.js';
import type { TargetSpec } from '../target-spec.js';

/** The outputs a target weighs (flat channels-last indices per sample) and their seed weights. */
export interface Selection {
  cells: number[];
  weights: number[];
}

/**
 * The flat cells and weights of a target on an output of per-sample shape `outDims` (channels-last; for a
 * map [H, W, C] or [D, H, W, C]); undefined for 'predicted' (the arg-max, per sample). Coordinates out of
 * the map are a SELECTION_OUT_OF_RANGE naming the output shape.
 */
export function selectionOf(spec: TargetSpec, outDims: readonly number[]): Selection | undefined {
  const k = outDims.reduce((a, b) => a * b, 1);
  const check = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= k) throw new LensError('SELECTION_OUT_OF_RANGE', `target ${i} is outside the model's ${k} output(s) (0..${k - 1})`);
    return i;
  };
  switch (spec.type) {
    case 'predicted':
      return undefined;
    case 'index':
      return { cells: [check(spec.index)], weights: [1] };
    case 'contrast':
      return { cells: [check(spec.a), check(spec.b)], weights: [1, -1] };
    case 'all': {
      const w = spec.reduce === 'mean' ? 1 / k : 1;
      return { cells: Array.from({ length: k }, (_, i) => i), weights: new Array<number>(k).fill(w) };
    }
    case 'pixel':
    case 'region': {
      const shape = `[${outDims.join(', ')}] (${outDims.length > 1 ? `${outDims.slice(0, -1).join(' x ')} cells x ${outDims[outDims.length - 1]} channel(s)` : 'a vector'})`;
      const spatial = outDims.slice(0, -1);
      const channels = outDims[outDims.length - 1];
      if (spatial.length < 2) throw new LensError('SELECTION_OUT_OF_RANGE', `a ${spec.type} target needs an output map; this model's output per sample is ${shape}: use an index or mean`);
      let ranges: [number, number][];
      let channel: number | undefined;
      if (spec.type === 'pixel') {
        const at = spec.at;
        if (spec.channel === undefined && at.length === spatial.length + 1) channel = at[at.length - 1];
        else if (at.length === spatial.length) channel = spec.channel;
        else throw new LensError('SELECTION_OUT_OF_RANGE', `pixel ${at.join(',')} has ${at.length} coordinate(s); the output map ${shape} takes ${spatial.length} and an optional channel`);
        ranges = at.slice(0, spatial.length).map((v) => [v, v]);
      } else {
        if (spec.ranges.length !== spatial.length) throw new LensError('SELECTION_OUT_OF_RANGE', `region has ${spec.ranges.length} range(s); the output map ${shape} takes ${spatial.length}`);
        ranges = spec.ranges;
        channel = spec.channel;
      }
      if (channel === undefined) {
        if (channels !== 1) throw new LensError('SELECTION_OUT_OF_RANGE', `the output map ${shape} has ${channels} channels: name one (pixel:ROW,COL,CH or region:...,CH)`);
        channel = 0;
      }
      if (!Number.isInteger(channel) || channel < 0 || channel >= channels) throw new LensError('SELECTION_OUT_OF_RANGE', `channel ${channel} is outside the output map ${shape} (0..${channels - 1})`);
      ranges.forEach(([a, b], d) => {
        if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < a || b >= spatial[d]) {
          throw new LensError('SELECTION_OUT_OF_RANGE', `${spec.type} ${a === b ? a : `${a}:${b}`} on axis ${d} is outside the output map ${shape} (0..${spatial[d] - 1})`);
        }
      });
      const cells: number[] = [];
      // Row-major over the spatial axes, the channel fastest: the channels-last flat index.
      const walk = (d: number, base: number): void => {
        if (d === spatial.length) {
          cells.push(base * channels + channel!);
          return;
        }
        for (let i = ranges[d][0]; i <= ranges[d][1]; i++) walk(d + 1, base * spatial[d] + i);
      };
      walk(0, 0);
      const w = spec.type === 'region' && spec.reduce === 'mean' ? 1 / cells.length : 1;
      return { cells, weights: new Array<number>(cells.length).fill(w) };
    }
  }
}

export interface SampleTarget {
  /** The explained output index (for a contrast, the first class; for a pixel or region, its first cell). */
  index: number;
  /** The contrasted class, for A-B targets. */
  minus?: number;
  /** The explained value: f_index, f_a - f_b, or the sum/mean of the selected outputs. */
  value: number;
  /** The one-hot seed's sum where it is not 1 (a region's sum: its cell count), for conservation checks. */
  seed?: number;
}

/** Per-sample targets from the explained output [N, K]; outDims is the per-sample output shape (default [K]). */
export function resolveTargets(spec: TargetSpec, out: Float32Array, n: number, k: number, outDims: readonly number[] = [k]): SampleTarget[] {
  const sel = selectionOf(spec, outDims);
  const res: SampleTarget[] = [];
  for (let s = 0; s < n; s++) {
    const row = out.subarray(s * k, (s + 1) * k);
    if (!sel) {
      let best = 0;
      for (let i = 1; i < k; i++) if (row[i] > row[best]) best = i;
      res.push({ index: best, value: row[best] });
      continue;
    }
    let value = 0;
    sel.cells.forEach((c, j) => (value += sel.weights[j] * row[c]));
    // Float32 like the engines' sums, so a conservation check compares like with like.
    const t: SampleTarget = { index: sel.cells[0], value: spec.type === 'index' ? row[sel.cells[0]] : Math.fround(value) };
    const seed = spec.type === 'contrast' ? 1 : Math.fround(sel.weights.reduce((a, b) => a + b, 0));
    if (Math.abs(seed - 1) > 1e-6) t.seed = seed;
    if (spec.type === 'contrast') {
      t.minus = sel.cells[1];
      t.value = row[sel.cells[0]] - row[sel.cells[1]];
    }
    res.push(t);
  }
  return res;
}

/**
 * The seed weights [N, K] both engines start from (the ONNX graph's `seed` input, the tfjs engine's
 * one-hot relevance). For 'predicted' the rows hold 1 at `predicted[s]` when given, else zeros (the
 * lowered graph picks the arg-max itself).
 */
export function seedWeights(spec: TargetSpec, n: number, k: number, outDims: readonly number[] = [k], predicted?: readonly number[]): Float32Array {
  const s = new Float32Array(n * k);
  const sel = selectionOf(spec, outDims);
  for (let i = 0; i < n; i++) {
    if (!sel) {
      if (predicted) s[i * k + predicted[i]] = 1;
      continue;
    }
    // Assignment, not accumulation: a contrast of a class with itself keeps -1 as before.
    sel.cells.forEach((c, j) => (s[i * k + c] = sel.weights[j]));
  }
  return s;
}

/** Output relevance as a tensor of the output's shape (channels-last, batch first). */
export function initialRelevance(tf: TF, spec: TargetSpec, targets: SampleTarget[], out: Float32Array, shape: number[], init: InitMode): Tensor {
  const n = targets.length;
  const k = out.length / Math.max(n, 1);
  const r = seedWeights(spec, n, k, shape.length > 1 ? shape.slice(1) : [k], targets.map((t) => t.index));
  if (init === 'output') for (let i = 0; i < r.length; i++) if (r[i] !== 0) r[i] *= out[i];
  return tf.tensor(r, shape);
}
