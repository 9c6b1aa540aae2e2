/**
 * DepthwiseConv: per-channel conv (Keras DepthwiseConv1D/2D; the first half of SeparableConv).
 * tfjs-wasm has no gradient kernel for depthwiseConv2d (DepthwiseConv2dNativeBackpropInput) and the
 * LRP engine needs gradients: the op carries its own (see depthwiseValid).
 */
import type { KindModule } from './kind.js';
import type { LayerNodeOf, Shape } from '../graph.js';

type T4 = import('@tensorflow/tfjs').Tensor4D;
import {
  type TF, type Tensor, badConfig, channels, dilateKernel, checkPositiveInts, checkSize, spatialInput, expectWeight,
  padForTaps, padSpatial, resolvePads, spatialOf, stridedTap, stridedTapAdjoint, tapOffsets, weightTensor, windowedSpatial, withGradient,
} from './common.js';

function checkParams(node: LayerNodeOf<'DepthwiseConv'>) {
  const p = node.params;
  if (p.rank !== 1 && p.rank !== 2) badConfig(node, `depthwise conv rank must be 1 or 2, got ${String(p.rank)}`);
  checkPositiveInts(node, 'kernel size', p.kernelSize, p.rank);
  checkPositiveInts(node, 'strides', p.strides, p.rank);
  checkPositiveInts(node, 'dilation', p.dilation, p.rank);
  checkPositiveInts(node, 'depth multiplier', [p.depthMultiplier], 1);
  return p;
}

/**
 * Valid depthwise conv of a padded input x [N, ...spatial, C] (1 or 2 spatial dims) with an undilated
 * kernel [...k, C, M]; output channel c*M + m (the TF / Keras order). The value comes from tfjs'
 * depthwiseConv2d; the gradient (which tfjs-wasm lacks) from taps: dx = sum over taps of the tap's
 * cells receiving sum_m dy[c, m] * k[tap, c, m].
 */
export function depthwiseValid(tf: TF, x: Tensor, kernel: Tensor, strides: number[]): Tensor {
  const r = x.rank - 2;
  const k = (kernel.shape as number[]).slice(0, r);
  const [c, m] = (kernel.shape as number[]).slice(r);
  const fast = ([t, w]: Tensor[]): Tensor =>
    r === 1
      ? tf.squeeze(tf.depthwiseConv2d(tf.expandDims(t, 1) as T4, tf.expandDims(w, 0) as T4, [1, strides[0]], 'valid'), [1])
      : tf.depthwiseConv2d(t as T4, w as T4, strides as [number, number], 'valid');
  const grad = ([t, w]: Tensor[], dy: Tensor): Tensor[] => {
    const out = spatialOf(dy);
    const n = t.shape[0] as number;
    const xx = padForTaps(tf, t, k, out, strides);
    const dyc = tf.reshape(dy, [n, ...out, c, m]);
    const sumAxes = Array.from({ length: r + 1 }, (_, i) => i);
    let gx: Tensor | null = null;
    const gw: Tensor[] = [];
    for (const off of tapOffsets(k)) {
      const wk = tf.reshape(tf.slice(w, [...off, 0, 0], [...off.map(() => 1), c, m]), [c, m]);
      const part = stridedTapAdjoint(tf, tf.sum(tf.mul(dyc, wk), -1), off, out, strides, xx.shape as number[]);
      gx = gx ? tf.add(gx, part) : part;
      // dk[tap, c, m] = sum over samples and positions of x_tap[c] * dy[c, m].
      const tap = stridedTap(tf, xx, off, out, strides);
      gw.push(tf.sum(tf.mul(tf.reshape(tap, [n, ...out, c, 1]), dyc), sumAxes));
    }
    return [tf.slice(gx as Tensor, t.shape.map(() => 0), t.shape as number[]), tf.reshape(tf.stack(gw), w.shape)];
  };
  return withGradient(tf, [x, kernel], fast, grad);
}

export const depthwiseConv: KindModule<'DepthwiseConv'> = {
  kind: 'DepthwiseConv',
  inferShape(node, inputs): Shape {
    const { p, x } = spatialInput(node, inputs, checkParams);
    const ci = channels(node, x);
    expectWeight(node, 'kernel', [...p.kernelSize, ci, p.depthMultiplier]);
    if (p.useBias) expectWeight(node, 'bias', [ci * p.depthMultiplier]);
    const out = windowedSpatial(node, x, p.padding, p.kernelSize, p.strides, p.dilation);
    return checkSize(node, [x[0], ...out, ci * p.depthMultiplier]);
  },
  forward(node, inputs, tf) {
    const p = node.params;
    const x = inputs[0];
    const pads = resolvePads(node, p.padding, spatialOf(x), p.kernelSize, p.strides, p.dilation);
    const xp = padSpatial(tf, x, pads);
    const kernel = weightTensor(tf, dilateKernel(node.weights.kernel, p.rank, p.dilation));
    let y = depthwiseValid(tf, xp, kernel, p.strides);
    if (p.useBias) y = tf.add(y, weightTensor(tf, node.weights.bias));
    return y;
  },
};
