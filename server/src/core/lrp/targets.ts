/**
 * What to explain, and the relevance the backward pass starts from. Targets index the model output
 * flattened per sample (channels-last; a classifier's class index). Initialisation: 'onehot' (Zennit:
 * 1 at the target) or 'output' (iNNvestigate, Captum: the target's output value).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { LensError } from '../errors.js';
import type { InitMode } from './composites.js';

type TF = typeof tfTypes;
type Tensor = tfTypes.Tensor;

export type TargetSpec =
  | { type: 'predicted' }
  | { type: 'index'; index: number }
  /** Class a against class b: relevance for f_a - f_b. */
  | { type: 'contrast'; a: number; b: number };

/** 'predicted', an index, 'A-B' (contrast), or 'regression' (the single output, index 0). */
export function parseTarget(text: string | undefined): TargetSpec {
  if (text === undefined || text === 'predicted' || text === 'pred' || text === 'argmax') return { type: 'predicted' };
  if (text === 'regression') return { type: 'index', index: 0 };
  const m = /^(\d+)\s*-\s*(\d+)$/.exec(text);
  if (m) return { type: 'contrast', a: Number(m[1]), b: Number(m[2]) };
  if (/^\d+$/.test(text)) return { type: 'index', index: Number(text) };
  throw new LensError('USAGE', `--target must be predicted, a class index, A-B or regression, got '${text}'`);
}

export interface SampleTarget {
  /** The explained output index (for a contrast, the first class). */
  index: number;
  /** The contrasted class, for A-B targets. */
  minus?: number;
  /** The explained value: f_index, or f_a - f_b. */
  value: number;
}

/** Per-sample targets from the explained output [N, K]. */
export function resolveTargets(spec: TargetSpec, out: Float32Array, n: number, k: number): SampleTarget[] {
  const check = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= k) throw new LensError('SELECTION_OUT_OF_RANGE', `target ${i} is outside the model's ${k} output(s) (0..${k - 1})`);
    return i;
  };
  const res: SampleTarget[] = [];
  for (let s = 0; s < n; s++) {
    const row = out.subarray(s * k, (s + 1) * k);
    if (spec.type === 'predicted') {
      let best = 0;
      for (let i = 1; i < k; i++) if (row[i] > row[best]) best = i;
      res.push({ index: best, value: row[best] });
    } else if (spec.type === 'index') {
      res.push({ index: check(spec.index), value: row[spec.index] });
    } else {
      check(spec.a);
      check(spec.b);
      res.push({ index: spec.a, minus: spec.b, value: row[spec.a] - row[spec.b] });
    }
  }
  return res;
}

/** Output relevance [N, K] as a tensor of the output's shape. */
export function initialRelevance(tf: TF, targets: SampleTarget[], out: Float32Array, shape: number[], init: InitMode): Tensor {
  const n = targets.length;
  const k = out.length / Math.max(n, 1);
  const r = new Float32Array(out.length);
  targets.forEach((t, s) => {
    r[s * k + t.index] = init === 'onehot' ? 1 : out[s * k + t.index];
    if (t.minus !== undefined) r[s * k + t.minus] = init === 'onehot' ? -1 : -out[s * k + t.minus];
  });
  return tf.tensor(r, shape);
}
