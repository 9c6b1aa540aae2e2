/**
 * Sequences (recurrent and 1-D convolutional models, inputs (batch, time, features)): each sample as a
 * features x time map, time running left to right so long sequences use the panel's width, and the
 * relevance per time step (signed sum over the features). Pure code (no DOM), tested in Node.
 */
import type { MapBatch } from './maps.js';

export interface SequenceAxes {
  steps: number;
  features: number;
  /** Where the time axis is in one sample: 'NWC' (time, features) or 'NCW' (features, time). */
  layout: 'NWC' | 'NCW';
}

/**
 * The time and feature axes of a batch, when it is a sequence: rank 3 (batch, time, features) in a
 * 1-D layout. Anything else (an image, a flat vector, a field with lat/lon) is drawn as a map instead.
 */
export function sequenceAxes(shape: number[], layout: string | undefined): SequenceAxes | undefined {
  if (shape.length !== 3 || (layout !== 'NWC' && layout !== 'NCW')) return undefined;
  const [a, b] = shape.slice(1);
  return layout === 'NWC' ? { steps: a, features: b, layout } : { steps: b, features: a, layout };
}

/** One sample's features x time map (row f, column t) from its cells in the model's layout. */
export function featureByTime<T extends Float32Array | Uint8Array>(cells: T, ax: SequenceAxes): T {
  if (ax.layout === 'NCW') return cells; // already (features, time)
  const { steps: T, features: F } = ax;
  const out = new (cells.constructor as { new (n: number): T })(T * F);
  for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) out[f * T + t] = cells[t * F + f];
  return out;
}

/** A batch in the model's layout as features x time maps, one per sample. */
export function sequenceMaps(data: Float32Array, shape: number[], ax: SequenceAxes): MapBatch {
  const n = shape[0] ?? 1;
  const cells = ax.steps * ax.features;
  if (data.length !== n * cells) throw new Error(`a sequence batch of shape [${shape.join(', ')}] needs ${n * cells} values, not ${data.length}`);
  const maps: Float32Array[] = [];
  for (let s = 0; s < n; s++) maps.push(featureByTime(data.subarray(s * cells, (s + 1) * cells), ax));
  return { n, height: ax.features, width: ax.steps, maps };
}

/** Relevance per time step of a features x time map: the signed sum over features (masked/NaN cells skipped). */
export function stepRelevance(map: Float32Array, steps: number, features: number): Float64Array {
  const out = new Float64Array(steps);
  for (let f = 0; f < features; f++) {
    for (let t = 0; t < steps; t++) {
      const v = map[f * steps + t];
      if (Number.isFinite(v)) out[t] += v;
    }
  }
  return out;
}

export interface StepSummary {
  total: number;
  /** Step with the largest |sum| and its sum. */
  peak: number;
  peakValue: number;
  /** Share of sum |R_t| in the last quarter of the steps (at least one step): how much the end dominates. */
  lastQuarterShare: number;
}

export function summarizeSteps(steps: ArrayLike<number>): StepSummary {
  let total = 0;
  let abs = 0;
  let peak = 0;
  const n = steps.length;
  const tail = Math.max(1, Math.ceil(n / 4));
  let tailAbs = 0;
  for (let t = 0; t < n; t++) {
    const v = steps[t];
    total += v;
    abs += Math.abs(v);
    if (t >= n - tail) tailAbs += Math.abs(v);
    if (Math.abs(v) > Math.abs(steps[peak])) peak = t;
  }
  return { total, peak, peakValue: n ? steps[peak] : NaN, lastQuarterShare: abs ? tailAbs / abs : 0 };
}
