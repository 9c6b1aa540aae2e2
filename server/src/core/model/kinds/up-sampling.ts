/**
 * UpSampling: nearest repeats each cell size[i] times (Keras UpSampling1D/2D/3D); bilinear (2-D) is
 * TF2's resize with half-pixel centres, which Keras UpSampling2D(interpolation='bilinear') calls.
 */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { type TF, type Tensor, badConfig, checkPositiveInts, checkSize, expectInputs, expectRank } from './common.js';

/** Repeat every element `k` times along `axis` (reshape/tile/reshape: rank stays <= 4, differentiable). */
function repeatAxis(tf: TF, x: Tensor, axis: number, k: number): Tensor {
  if (k === 1) return x;
  const s = x.shape;
  const lead = s.slice(0, axis).reduce((a, b) => a * b, 1);
  const tail = s.slice(axis + 1).reduce((a, b) => a * b, 1);
  const y = tf.tile(tf.reshape(x, [lead, s[axis], 1, tail]), [1, 1, k, 1]);
  return tf.reshape(y, [...s.slice(0, axis), s[axis] * k, ...s.slice(axis + 1)]);
}

export const upSampling: KindModule<'UpSampling'> = {
  kind: 'UpSampling',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const p = node.params;
    if (p.rank !== 1 && p.rank !== 2 && p.rank !== 3) badConfig(node, `upsampling rank must be 1, 2 or 3`);
    checkPositiveInts(node, 'upsampling size', p.size, p.rank);
    if (p.interpolation !== 'nearest' && !(p.interpolation === 'bilinear' && p.rank === 2)) {
      badConfig(node, `upsampling ${String(p.interpolation)} is supported for nearest (any rank) and bilinear (2-D) only`);
    }
    const x = inputs[0];
    expectRank(node, x, p.rank + 2);
    return checkSize(node, [x[0], ...x.slice(1, -1).map((d, i) => (d === null ? null : d * p.size[i])), x[x.length - 1]]);
  },
  forward(node, inputs, tf) {
    const p = node.params;
    let x = inputs[0];
    if (p.interpolation === 'bilinear') {
      const h = (x.shape[1] as number) * p.size[0];
      const w = (x.shape[2] as number) * p.size[1];
      return tf.image.resizeBilinear(x as import('@tensorflow/tfjs').Tensor4D, [h, w], false, true);
    }
    for (let i = 0; i < p.rank; i++) x = repeatAxis(tf, x, i + 1, p.size[i]);
    return x;
  },
};
