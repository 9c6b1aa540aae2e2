/**
 * Keras preprocessing layers that are affine maps per channel, as BatchNorm weights (epsilon 0, moving
 * variance 1, so BatchNorm computes gamma (x - movingMean) + beta):
 * - Normalization (TF >= 2.6 and Keras 3): (x - mean) / max(sqrt(variance), 1e-7), or with invert=True
 *   mean + x * max(sqrt(variance), 1e-7);
 * - Rescaling: x * scale + offset.
 * BatchNorm is what canonization folds into an adjacent linear layer and what the LRP composites treat
 * as an affine map.
 */
import type { WeightTensor } from '../graph.js';

/** Keras backend.epsilon(), the floor Normalization puts under the standard deviation. */
export const KERAS_EPSILON = 1e-7;

function tensor(values: ArrayLike<number>): WeightTensor {
  return { shape: [values.length], data: Float32Array.from(values) };
}

/** BatchNorm weights computing Keras Normalization from its mean and variance (float64 arithmetic). */
export function normalizationWeights(mean: ArrayLike<number>, variance: ArrayLike<number>, invert: boolean): Record<string, WeightTensor> {
  const c = mean.length;
  const sd = Array.from({ length: c }, (_, i) => Math.max(Math.sqrt(variance[i]), KERAS_EPSILON));
  const zeros = new Array<number>(c).fill(0);
  const ones = new Array<number>(c).fill(1);
  if (invert) return { gamma: tensor(sd), beta: tensor(mean), movingMean: tensor(zeros), movingVariance: tensor(ones) };
  return { gamma: tensor(sd.map((s) => 1 / s)), beta: tensor(zeros), movingMean: tensor(mean), movingVariance: tensor(ones) };
}

/** BatchNorm weights computing x * scale + offset (scale and offset: one value each, or one per channel). */
export function rescalingWeights(scale: number[], offset: number[]): Record<string, WeightTensor> {
  const c = Math.max(scale.length, offset.length);
  const at = (v: number[], i: number): number => (v.length === 1 ? v[0] : v[i]);
  const s = Array.from({ length: c }, (_, i) => at(scale, i));
  const o = Array.from({ length: c }, (_, i) => at(offset, i));
  return { gamma: tensor(s), beta: tensor(o), movingMean: tensor(new Array<number>(c).fill(0)), movingVariance: tensor(new Array<number>(c).fill(1)) };
}
