/**
 * Which samples of a batch to explain, and taking them: the one copy every front end uses (the server's
 * selections, the report's per-class picks, explain's per-label groups).
 */
import { LensError } from '../errors.js';
import { toFloat32, type NdArray } from '../array.js';

export type Batch = NdArray & { data: Float32Array };

/** Samples explained when the caller names no cap. */
export const DEFAULT_MAX_SAMPLES = 64;

export interface SampleSelection {
  /** Indices along the batch axis (default: the first ones, up to the cap). */
  indices?: number[];
  maxSamples?: number;
}

/** The indices a selection names in a batch of n: checked against n, at most the cap. */
export function selectIndices(n: number, sel: SampleSelection = {}, file?: string, defaultMax = DEFAULT_MAX_SAMPLES): number[] {
  const max = Math.max(1, Math.floor(sel.maxSamples ?? defaultMax));
  const indices = (sel.indices ?? [...Array(Math.min(n, max)).keys()]).slice(0, max);
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new LensError('SELECTION_OUT_OF_RANGE', `sample index ${i} is outside 0..${n - 1}`, { file });
  }
  return indices;
}

/** The samples at `indices` of a batch, in that order, as a new float32 batch. */
export function takeSamples(x: NdArray, indices: readonly number[]): Batch {
  const src = toFloat32(x);
  const n = x.shape[0] ?? 1;
  const per = src.length / Math.max(1, n);
  const data = new Float32Array(indices.length * per);
  indices.forEach((s, k) => data.set(src.subarray(s * per, (s + 1) * per), k * per));
  return { shape: [indices.length, ...x.shape.slice(1)], data, dtype: 'f4' };
}

/** Up to `max` indices spread evenly over the samples whose label is `label` (all of them when fewer). */
export function pickByLabel(labels: ArrayLike<number>, label: number, max: number): number[] {
  const all: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] === label) all.push(i);
  if (all.length <= max) return all;
  return Array.from({ length: max }, (_, k) => all[Math.floor(((k + 0.5) * all.length) / max)]);
}

/** Sample positions grouped by a per-sample value (a label, a class), in first-seen order. */
export function groupBy(values: ArrayLike<number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let s = 0; s < values.length; s++) {
    const g = groups.get(values[s]);
    if (g) g.push(s);
    else groups.set(values[s], [s]);
  }
  return groups;
}
