/**
 * Conv: 1-, 2- and 3-D convolution with strides, dilation, groups and any padding, on channels-last
 * tensors. Padding is applied explicitly (zeros) and the conv runs 'valid', so TF's asymmetric 'same'
 * and ONNX's explicit pads take the same path. Dilation is folded into the kernel (zeros between taps),
 * which lets strides and dilation combine (tfjs refuses both > 1) and keeps the op differentiable.
 */
import type { KindModule } from './kind.js';
import type { ConvParams, LayerNodeOf, Shape } from '../graph.js';
import { depthwiseValid } from './depthwise-conv.js';
import {
  type TF, type Tensor, badConfig, dilateKernel, channels, checkPositiveInts, checkSize, spatialInput,
  expectWeight, mismatch, padSpatial, resolvePads, spatialOf, weightTensor, windowedSpatial,
} from './common.js';

type Node = LayerNodeOf<'Conv'>;

function checkParams(node: Node): ConvParams {
  const p = node.params;
  if (p.rank !== 1 && p.rank !== 2 && p.rank !== 3) badConfig(node, `conv rank must be 1, 2 or 3, got ${String(p.rank)}`);
  checkPositiveInts(node, 'kernel size', p.kernelSize, p.rank);
  checkPositiveInts(node, 'strides', p.strides, p.rank);
  checkPositiveInts(node, 'dilation', p.dilation, p.rank);
  checkPositiveInts(node, 'groups', [p.groups], 1);
  checkPositiveInts(node, 'filters', [p.filters], 1);
  return p;
}

// Re-exported: the LRP engine imports it from here.
export { dilateKernel };

/** Plain (ungrouped, undilated, unpadded) conv of rank 1-3 on channels-last x. */
function convValid(tf: TF, x: Tensor, kernel: Tensor, rank: number, strides: number[]): Tensor {
  if (rank === 1) {
    const x4 = tf.expandDims(x, 1) as tfTypes4;
    const k4 = tf.expandDims(kernel, 0) as tfTypes4;
    return tf.squeeze(tf.conv2d(x4, k4, [1, strides[0]], 'valid'), [1]);
  }
  if (rank === 2) return tf.conv2d(x as tfTypes4, kernel as tfTypes4, strides as [number, number], 'valid');
  return conv3dByPlanes(tf, x, kernel, strides);
}

/**
 * 3-D conv as a sum over depth taps of 2-D convs on (batch x depth) planes: the same sums, but on
 * tfjs-wasm's fast conv2d (its Conv3D kernel is ~25x slower) and with plain differentiable ops.
 */
function conv3dByPlanes(tf: TF, x: Tensor, kernel: Tensor, strides: number[]): Tensor {
  const [n, d, h, w, c] = x.shape as number[];
  const [kd, kh, kw, , f] = kernel.shape as number[];
  const [sd, sh, sw] = strides;
  const dOut = Math.floor((d - kd) / sd) + 1;
  // Strided depth: take sd planes per output and keep the first; pad so the last group is whole.
  const xx = sd > 1 ? tf.pad(x, [[0, 0], [0, sd - 1], [0, 0], [0, 0], [0, 0]]) : x;
  let acc: Tensor | null = null;
  for (let t = 0; t < kd; t++) {
    let planes: Tensor;
    if (sd === 1) planes = tf.reshape(tf.slice(xx, [0, t, 0, 0, 0], [n, dOut, h, w, c]), [n * dOut, h, w, c]);
    else {
      const grouped = tf.reshape(tf.slice(xx, [0, t, 0, 0, 0], [n, dOut * sd, h, w, c]), [n * dOut, sd, h * w * c]);
      planes = tf.reshape(tf.slice(grouped, [0, 0, 0], [n * dOut, 1, h * w * c]), [n * dOut, h, w, c]);
    }
    const k2 = tf.reshape(tf.slice(kernel, [t, 0, 0, 0, 0], [1, kh, kw, c, f]), [kh, kw, c, f]);
    const y = tf.conv2d(planes as tfTypes4, k2 as tfTypes4, [sh, sw], 'valid');
    acc = acc ? tf.add(acc, y) : y;
  }
  const out = acc as Tensor;
  return tf.reshape(out, [n, dOut, out.shape[1] as number, out.shape[2] as number, f]);
}
type tfTypes4 = import('@tensorflow/tfjs').Tensor4D;

export const conv: KindModule<'Conv'> = {
  kind: 'Conv',
  inferShape(node, inputs): Shape {
    const { p, x } = spatialInput(node, inputs, checkParams);
    const ci = channels(node, x);
    if (ci % p.groups !== 0 || p.filters % p.groups !== 0) {
      mismatch(node, `conv ${node.name}: ${ci} input channels and ${p.filters} filters do not split into ${p.groups} groups`);
    }
    expectWeight(node, 'kernel', [...p.kernelSize, ci / p.groups, p.filters]);
    if (p.useBias) expectWeight(node, 'bias', [p.filters]);
    const out = windowedSpatial(node, x, p.padding, p.kernelSize, p.strides, p.dilation);
    return checkSize(node, [x[0], ...out, p.filters]);
  },
  forward(node, inputs, tf) {
    const p = node.params;
    const x = inputs[0];
    const pads = resolvePads(node, p.padding, spatialOf(x), p.kernelSize, p.strides, p.dilation);
    const xp = padSpatial(tf, x, pads);
    const kw = dilateKernel(node.weights.kernel, p.rank, p.dilation);
    const kernel = weightTensor(tf, kw);
    let y: Tensor;
    if (p.groups === 1) {
      y = convValid(tf, xp, kernel, p.rank, p.strides);
    } else {
      const ci = x.shape[x.rank - 1];
      const mult = p.filters / p.groups;
      if (p.groups === ci && p.rank <= 2) {
        // Depthwise: kernel [..k, 1, C*mult] reads as [..k, C, mult] (output channel c*mult + m in both).
        const k2 = tf.reshape(kernel, [...kw.shape.slice(0, p.rank), ci, mult]);
        y = depthwiseValid(tf, xp, k2, p.strides);
      } else {
        const xs = tf.split(xp, p.groups, xp.rank - 1);
        const ks = tf.split(kernel, p.groups, kernel.rank - 1);
        y = tf.concat(xs.map((xg, g) => convValid(tf, xg, ks[g], p.rank, p.strides)), -1);
      }
    }
    if (p.useBias) y = tf.add(y, weightTensor(tf, node.weights.bias));
    return y;
  },
};
