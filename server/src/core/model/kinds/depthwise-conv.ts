/**
 * DepthwiseConv: per-channel conv (Keras DepthwiseConv1D/2D; the first half of SeparableConv).
 * Computed as a sum over kernel taps of shifted, strided input slices times per-channel weights:
 * tfjs-wasm has no gradient kernel for depthwiseConv2d (DepthwiseConv2dNativeBackpropInput), and the
 * LRP engine needs gradients; slices, reshapes and products all have them.
 */
import type { KindModule } from './kind.js';
import type { LayerNodeOf, Shape } from '../graph.js';
import {
  type TF, type Tensor, badConfig, channels, checkPositiveInts, checkSize, expectInputs, expectRank, expectWeight,
  padSpatial, resolvePads, spatialOf, weightTensor, windowOut,
} from './common.js';
import { dilateKernel } from './conv.js';

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
 * Valid depthwise conv of a padded 2-D input x [N, H, W, C] with an undilated kernel [kh, kw, C, M];
 * output channel c*M + m (the TF / Keras order). Strided slices use pad + reshape + slice.
 */
export function depthwiseValid(tf: TF, x: Tensor, kernel: Tensor, strides: [number, number]): Tensor {
  const [n, h, w, c] = x.shape as number[];
  const [kh, kw, , m] = kernel.shape as number[];
  const [sh, sw] = strides;
  const ho = Math.floor((h - kh) / sh) + 1;
  const wo = Math.floor((w - kw) / sw) + 1;
  // Room for whole stride groups after the last tap's window.
  const xx = padSpatial(tf, x, [[0, Math.max(0, kh - 1 + ho * sh - h)], [0, Math.max(0, kw - 1 + wo * sw - w)]]);
  let acc: Tensor | null = null;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      let tap = tf.slice(xx, [0, i, j, 0], [n, ho * sh, wo * sw, c]);
      if (sh > 1 || sw > 1) {
        tap = tf.slice(tf.reshape(tap, [n * ho, sh, wo, sw * c]), [0, 0, 0, 0], [n * ho, 1, wo, c]);
      }
      const wk = tf.reshape(tf.slice(kernel, [i, j, 0, 0], [1, 1, c, m]), [c, m]);
      const term = tf.mul(tf.reshape(tap, [n, ho, wo, c, 1]), wk);
      acc = acc ? tf.add(acc, term) : term;
    }
  }
  return tf.reshape(acc as Tensor, [n, ho, wo, c * m]);
}

export const depthwiseConv: KindModule<'DepthwiseConv'> = {
  kind: 'DepthwiseConv',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const p = checkParams(node);
    const x = inputs[0];
    expectRank(node, x, p.rank + 2);
    const ci = channels(node, x);
    expectWeight(node, 'kernel', [...p.kernelSize, ci, p.depthMultiplier]);
    if (p.useBias) expectWeight(node, 'bias', [ci * p.depthMultiplier]);
    const spatial = x.slice(1, -1);
    const pads = resolvePads(node, p.padding, spatial, p.kernelSize, p.strides, p.dilation);
    p.padding.pads = pads;
    const out = spatial.map((s, i) => windowOut(s, pads[i], p.kernelSize[i], p.strides[i], p.dilation[i]));
    return checkSize(node, [x[0], ...out, ci * p.depthMultiplier]);
  },
  forward(node, inputs, tf) {
    const p = node.params;
    const x = inputs[0];
    const pads = resolvePads(node, p.padding, spatialOf(x), p.kernelSize, p.strides, p.dilation);
    const xp = padSpatial(tf, x, pads);
    const kernel = weightTensor(tf, dilateKernel(node.weights.kernel, p.rank, p.dilation));
    let y =
      p.rank === 1
        ? tf.squeeze(depthwiseValid(tf, tf.expandDims(xp, 1), tf.expandDims(kernel, 0), [1, p.strides[0]]), [1])
        : depthwiseValid(tf, xp, kernel, p.strides as [number, number]);
    if (p.useBias) y = tf.add(y, weightTensor(tf, node.weights.bias));
    return y;
  },
};
