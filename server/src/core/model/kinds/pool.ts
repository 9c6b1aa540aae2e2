/**
 * Pool: max / average pooling over 1-3 spatial dims. Padding is explicit: max pads with -inf, average
 * divides by the count of cells that the framework counts (Keras 'same' and ONNX count_include_pad=0
 * leave padded cells out; ONNX ceil_mode adds partial windows whose overhang is never counted).
 */
import type { KindModule } from './kind.js';
import type { LayerNodeOf, PoolParams, Shape } from '../graph.js';
import {
  type TF, type Tensor, badConfig, checkPositiveInts, checkSize, spatialInput, padForTaps, padSpatial,
  resolvePads, spatialOf, stridedTap, stridedTapAdjoint, tapOffsets, windowOut, windowedSpatial, withGradient,
} from './common.js';

type Node = LayerNodeOf<'Pool'>;
type T4 = import('@tensorflow/tfjs').Tensor4D;

function checkParams(node: Node): PoolParams {
  const p = node.params;
  if (p.op !== 'max' && p.op !== 'avg') badConfig(node, `pool op must be max or avg, got ${String(p.op)}`);
  if (p.rank !== 1 && p.rank !== 2 && p.rank !== 3) badConfig(node, `pool rank must be 1, 2 or 3, got ${String(p.rank)}`);
  checkPositiveInts(node, 'pool size', p.poolSize, p.rank);
  checkPositiveInts(node, 'strides', p.strides, p.rank);
  return p;
}

/** Pads per spatial dim plus the ceil-mode overhang at the end of each dim. */
export function poolGeometry(node: Node, spatial: number[]): { pads: [number, number][]; extra: number[]; out: number[] } {
  const p = node.params;
  const ones = spatial.map(() => 1);
  const pads = resolvePads(node, p.padding, spatial, p.poolSize, p.strides, ones);
  const out = spatial.map((s, i) => windowOut(s, pads[i], p.poolSize[i], p.strides[i], 1, p.ceilMode) as number);
  const extra = spatial.map((s, i) => Math.max(0, (out[i] - 1) * p.strides[i] + p.poolSize[i] - (s + pads[i][0] + pads[i][1])));
  return { pads, extra, out };
}

/**
 * Gradient of max pooling (x padded already, with -inf): each window's dy goes to its first maximum in
 * row-major order (PyTorch's choice) and nowhere else. Built from taps (slice/compare/pad) because
 * tfjs-wasm's MaxPoolGrad misroutes it when there are several channels or samples.
 */
function maxPoolGrad(tf: TF, x: Tensor, y: Tensor, dy: Tensor, size: number[], strides: number[]): Tensor {
  const out = spatialOf(y);
  const xx = padForTaps(tf, x, size, out, strides, -Infinity);
  let free: Tensor = tf.onesLike(y).asType('bool');
  let gx: Tensor | null = null;
  for (const off of tapOffsets(size)) {
    const hit = tf.logicalAnd(free, tf.equal(stridedTap(tf, xx, off, out, strides), y));
    free = tf.logicalAnd(free, tf.logicalNot(hit));
    const part = stridedTapAdjoint(tf, tf.mul(dy, tf.cast(hit, 'float32')), off, out, strides, xx.shape as number[]);
    gx = gx ? tf.add(gx, part) : part;
  }
  return tf.slice(gx as Tensor, x.shape.map(() => 0), x.shape as number[]);
}

/** Native max pooling (fast) with a gradient that is right on every backend. x is padded already (with -inf). */
function maxPoolValid(tf: TF, x: Tensor, rank: number, size: number[], strides: number[]): Tensor {
  let fast: (t: Tensor) => Tensor;
  if (rank === 1) fast = (t) => tf.squeeze(tf.maxPool(tf.expandDims(t, 1) as T4, [1, size[0]], [1, strides[0]], 'valid'), [1]);
  else if (rank === 2) fast = (t) => tf.maxPool(t as T4, size as [number, number], strides as [number, number], 'valid');
  else {
    // 3-D: max is separable; pool depth, then height x width, with the 2-D kernel (tfjs-wasm's
    // MaxPool3D starts its max at FLT_MIN, wrong for all-negative windows).
    fast = (t) => {
      const [n, d, h, w, c] = t.shape as number[];
      const y1 = tf.maxPool(tf.reshape(t, [n, d, h * w, c]) as T4, [size[0], 1], [strides[0], 1], 'valid');
      const d2 = y1.shape[1] as number;
      const y2 = tf.maxPool(tf.reshape(y1, [n * d2, h, w, c]) as T4, [size[1], size[2]], [strides[1], strides[2]], 'valid');
      return tf.reshape(y2, [n, d2, y2.shape[1] as number, y2.shape[2] as number, c]);
    };
  }
  return withGradient(tf, [x], ([t]) => fast(t), ([t], dy) => [maxPoolGrad(tf, t, fast(t), dy, size, strides)]);
}

function poolValid(tf: TF, x: Tensor, op: 'max' | 'avg', rank: number, size: number[], strides: number[]): Tensor {
  if (op === 'max') return maxPoolValid(tf, x, rank, size, strides);
  if (rank === 1) {
    const y = poolValid(tf, tf.expandDims(x, 1), op, 2, [1, size[0]], [1, strides[0]]);
    return tf.squeeze(y, [1]);
  }
  if (rank === 2) return tf.avgPool(x as T4, size as [number, number], strides as [number, number], 'valid');
  // 3-D average: separable, so pool depth then height x width with the 2-D kernel.
  const [n, d, h, w, c] = x.shape as number[];
  const y1 = poolValid(tf, tf.reshape(x, [n, d, h * w, c]), op, 2, [size[0], 1], [strides[0], 1]);
  const d2 = y1.shape[1] as number;
  const y2 = poolValid(tf, tf.reshape(y1, [n * d2, h, w, c]), op, 2, [size[1], size[2]], [strides[1], strides[2]]);
  return tf.reshape(y2, [n, d2, y2.shape[1] as number, y2.shape[2] as number, c]);
}

export const pool: KindModule<'Pool'> = {
  kind: 'Pool',
  inferShape(node, inputs): Shape {
    const { p, x } = spatialInput(node, inputs, checkParams);
    const out = windowedSpatial(node, x, p.padding, p.poolSize, p.strides, p.poolSize.map(() => 1), p.ceilMode);
    return checkSize(node, [x[0], ...out, x[x.length - 1]]);
  },
  forward(node, inputs, tf) {
    const p = node.params;
    const x = inputs[0];
    const spatial = spatialOf(x);
    const { pads, extra } = poolGeometry(node, spatial);
    const full = pads.map(([a, b], i) => [a, b + extra[i]] as [number, number]);
    if (p.op === 'max') {
      return poolValid(tf, padSpatial(tf, x, full, -Infinity), 'max', p.rank, p.poolSize, p.strides);
    }
    const anyPad = pads.some(([a, b]) => a > 0 || b > 0);
    const anyExtra = extra.some((e) => e > 0);
    const xp = padSpatial(tf, x, full);
    const sum = poolValid(tf, xp, 'avg', p.rank, p.poolSize, p.strides);
    if (!anyExtra && (!anyPad || p.countIncludePad)) return sum;
    // Divisor per window = (cells counted) / (window size): pool a mask that is 1 where a cell counts.
    let mask: Tensor = tf.ones([1, ...spatial, 1]);
    if (p.countIncludePad) mask = padSpatial(tf, mask, pads, 1);
    mask = padSpatial(tf, mask, p.countIncludePad ? extra.map((e) => [0, e] as [number, number]) : full, 0);
    const frac = poolValid(tf, mask, 'avg', p.rank, p.poolSize, p.strides);
    return tf.div(sum, frac);
  },
};
