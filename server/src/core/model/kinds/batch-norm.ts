/**
 * BatchNorm at inference: x * scale + shift with scale = gamma / sqrt(var + eps), shift = beta - mean * scale
 * (the form tf.nn.batch_normalization computes), using the file's epsilon.
 */
import type { KindModule } from './kind.js';
import type { LayerNodeOf, Shape } from '../graph.js';
import { resolveAxis } from '../activations.js';
import { LensError } from '../../errors.js';
import { checkSize, expectInputs, expectWeight, mismatch } from './common.js';

type Node = LayerNodeOf<'BatchNorm'>;

/** Per-channel scale and shift (float64 arithmetic, float32 result). */
export function batchNormAffine(node: Node): { scale: Float32Array; shift: Float32Array } {
  const w = node.weights;
  const mean = w.movingMean.data;
  const variance = w.movingVariance.data;
  const c = mean.length;
  const eps = node.params.epsilon;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    const g = w.gamma ? w.gamma.data[i] : 1;
    const b = w.beta ? w.beta.data[i] : 0;
    const s = g / Math.sqrt(variance[i] + eps);
    scale[i] = s;
    shift[i] = b - mean[i] * s;
  }
  return { scale, shift };
}

export const batchNorm: KindModule<'BatchNorm'> = {
  kind: 'BatchNorm',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const x = inputs[0];
    const eps = node.params.epsilon;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
      throw new LensError('UNSUPPORTED_CONFIG', `BatchNorm ${node.name}: epsilon must be a non-negative number, got ${String(eps)}`, { layer: node.name });
    }
    const axis = resolveAxis(node.params.axis ?? -1, x.length);
    if (axis === 0) mismatch(node, `BatchNorm ${node.name} cannot normalise over the batch axis`);
    const c = x[axis];
    if (c === null) mismatch(node, `BatchNorm ${node.name} needs a known size on its axis`);
    for (const key of ['movingMean', 'movingVariance']) expectWeight(node, key, [c]);
    if (node.weights.gamma) expectWeight(node, 'gamma', [c]);
    if (node.weights.beta) expectWeight(node, 'beta', [c]);
    return checkSize(node, [...x]);
  },
  forward(node, inputs, tf) {
    const x = inputs[0];
    const axis = resolveAxis(node.params.axis ?? -1, x.rank);
    const { scale, shift } = batchNormAffine(node);
    const bshape = x.shape.map((d, i) => (i === axis ? d : 1));
    return tf.add(tf.mul(x, tf.tensor(scale, bshape)), tf.tensor(shift, bshape));
  },
};
