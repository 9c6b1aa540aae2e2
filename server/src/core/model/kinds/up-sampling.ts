/**
 * UpSampling: nearest repeats each cell size[i] times (Keras UpSampling1D/2D/3D); bilinear is TF2's
 * resize with half-pixel centres (what Keras UpSampling2D(interpolation='bilinear') calls), done per axis.
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

/**
 * Linear interpolation by an integer factor k along one axis, with TF2's half-pixel centres and edge
 * clamping (source p = max(0, (o + 0.5) / k - 0.5)). Output phase r of every cell mixes two neighbours
 * with fixed weights, so it is a few slices and sums: exact, and with correct gradients (tfjs-wasm's
 * ResizeBilinearGrad ignores half-pixel centres). Bilinear = this along each axis.
 */
function linearAxis(tf: TF, x: Tensor, axis: number, k: number): Tensor {
  if (k === 1) return x;
  const n = x.shape[axis] as number;
  const edge = (at: number) => tf.slice(x, x.shape.map((_, i) => (i === axis ? at : 0)), x.shape.map((d, i) => (i === axis ? 1 : d)));
  // Padded by one replicated cell at each end: padded index = source index + 1.
  const xp = tf.concat([edge(0), x, edge(n - 1)], axis);
  const window = (start: number) => tf.slice(xp, x.shape.map((_, i) => (i === axis ? start : 0)), x.shape.map((d, i) => (i === axis ? n : d)));
  const phases: Tensor[] = [];
  for (let r = 0; r < k; r++) {
    const f = (r + 0.5) / k - 0.5;
    // f >= 0: between cells q and q+1 (padded q+1, q+2); f < 0: between q-1 and q (padded q, q+1).
    const lo = f >= 0 ? 1 : 0;
    const t = f >= 0 ? f : 1 + f;
    phases.push(tf.add(tf.mul(window(lo), 1 - t), tf.mul(window(lo + 1), t)));
  }
  const stacked = tf.stack(phases, axis + 1);
  return tf.reshape(stacked, x.shape.map((d, i) => (i === axis ? n * k : d)));
}

export const upSampling: KindModule<'UpSampling'> = {
  kind: 'UpSampling',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const p = node.params;
    if (p.rank !== 1 && p.rank !== 2 && p.rank !== 3) badConfig(node, `upsampling rank must be 1, 2 or 3`);
    checkPositiveInts(node, 'upsampling size', p.size, p.rank);
    if (p.interpolation !== 'nearest' && p.interpolation !== 'bilinear') {
      badConfig(node, `upsampling ${String(p.interpolation)} is not supported (nearest or bilinear)`);
    }
    const x = inputs[0];
    expectRank(node, x, p.rank + 2);
    return checkSize(node, [x[0], ...x.slice(1, -1).map((d, i) => (d === null ? null : d * p.size[i])), x[x.length - 1]]);
  },
  forward(node, inputs, tf) {
    const p = node.params;
    let x = inputs[0];
    if (p.interpolation === 'bilinear') {
      for (let i = 0; i < p.rank; i++) x = linearAxis(tf, x, i + 1, p.size[i]);
      return x;
    }
    for (let i = 0; i < p.rank; i++) x = repeatAxis(tf, x, i + 1, p.size[i]);
    return x;
  },
};
