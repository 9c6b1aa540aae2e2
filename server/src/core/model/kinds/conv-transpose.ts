/**
 * ConvTranspose: 1-, 2- and 3-D transposed convolution (Keras Conv*Transpose, ONNX ConvTranspose), on
 * channels-last tensors. Run as what it equals: the input spread over the output grid (s - 1 zeros between
 * cells), padded by k - 1 - pads (cropped where that is negative), correlated with the spatially flipped
 * kernel at stride 1. Only zero-insertion, pad/slice and the Conv kind's valid conv: differentiable, and the
 * LRP engine (lrp/linear.ts) uses the same pieces.
 */
import type { KindModule } from './kind.js';
import type { ConvTransposeParams, Dim, LayerNodeOf, Shape, WeightTensor } from '../graph.js';
import { conv } from './conv.js';
import {
  type TF, type Tensor, badConfig, channels, checkPositiveInts, checkSize, dilateKernel, spatialInput, expectWeight,
  padOrCrop, spatialOf, zeroInsert,
} from './common.js';

type Node = LayerNodeOf<'ConvTranspose'>;

function checkParams(node: Node): ConvTransposeParams {
  const p = node.params;
  if (p.rank !== 1 && p.rank !== 2 && p.rank !== 3) badConfig(node, `transposed conv rank must be 1, 2 or 3, got ${String(p.rank)}`);
  checkPositiveInts(node, 'kernel size', p.kernelSize, p.rank);
  checkPositiveInts(node, 'strides', p.strides, p.rank);
  checkPositiveInts(node, 'dilation', p.dilation, p.rank);
  checkPositiveInts(node, 'filters', [p.filters], 1);
  if (p.outputPadding !== null) {
    if (!Array.isArray(p.outputPadding) || p.outputPadding.length !== p.rank || p.outputPadding.some((v, i) => !Number.isInteger(v) || v < 0 || v >= Math.max(p.strides[i], p.dilation[i]))) {
      badConfig(node, `output_padding must be ${p.rank} integer(s) in [0, max(stride, dilation)), got ${JSON.stringify(p.outputPadding)}`);
    }
  }
  return p;
}

/**
 * [before, after] per spatial dim for inputs of size `spatial`: out = (n - 1) s + K - before - after with
 * K = (k - 1) d + 1. Keras's output size (keras.utils.conv_utils.deconv_output_length) and TF's padding
 * for that size (conv2d_transpose: before = floor(max((n - 1) s + K - out, 0) / 2)); explicit pads as
 * given. Unknown sizes give [0, 0] (forward resolves again from the real tensor).
 */
/** Output size per spatial dim for resolved pads: (in - 1) * s + (k - 1) * d + 1 - before - after. */
export function transposedSize(p: ConvTransposeParams, spatial: Dim[], pads: [number, number][]): Dim[] {
  return spatial.map((n, i) => (n === null ? null : (n - 1) * p.strides[i] + (p.kernelSize[i] - 1) * p.dilation[i] + 1 - pads[i][0] - pads[i][1]));
}

export function transposePads(node: { name: string; params: ConvTransposeParams }, spatial: Dim[]): [number, number][] {
  const p = node.params;
  return spatial.map((n, i) => {
    const s = p.strides[i];
    const K = (p.kernelSize[i] - 1) * p.dilation[i] + 1;
    const op = p.outputPadding?.[i];
    switch (p.padding.mode) {
      case 'explicit': {
        const pair = p.padding.pads[i];
        if (!Array.isArray(pair) || pair.length !== 2 || !pair.every(Number.isInteger) || pair[0] < 0 || pair[0] > 1 << 24 || Math.abs(pair[1]) > 1 << 24) {
          badConfig(node, `transposed conv pads must be ${p.rank} [before, after] integer pairs, got ${JSON.stringify(p.padding.pads)}`);
        }
        return [pair[0], pair[1]] as [number, number];
      }
      case 'valid':
      case 'same': {
        if (n === null) return [0, 0] as [number, number];
        let out: number;
        if (p.padding.mode === 'valid') out = op === undefined ? n * s + Math.max(K - s, 0) : (n - 1) * s + K + op;
        else out = op === undefined ? n * s : (n - 1) * s + K - 2 * Math.floor(K / 2) + op;
        const before = p.padding.mode === 'valid' ? 0 : Math.floor(Math.max((n - 1) * s + K - out, 0) / 2);
        return [before, (n - 1) * s + K - before - out] as [number, number];
      }
      default:
        return badConfig(node, `transposed conv padding '${String(p.padding.mode)}' is not supported (valid, same or explicit)`);
    }
  });
}

/**
 * The kernel that, correlated at stride 1 with the zero-inserted input, gives the transposed conv:
 * [...k, F, C] (scatter weights) -> dilated, flipped in space, channels swapped to [...K, C, F].
 */
export function correlationKernel(w: WeightTensor, rank: number, dilation: number[]): WeightTensor {
  const d = dilateKernel(w, rank, dilation);
  const k = d.shape.slice(0, rank);
  const [f, c] = d.shape.slice(rank);
  const taps = k.reduce((a, b) => a * b, 1);
  const out = new Float32Array(d.data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let t = 0; t < taps; t++) {
    let flipped = 0;
    for (let i = 0; i < rank; i++) flipped = flipped * k[i] + (k[i] - 1 - idx[i]);
    for (let fi = 0; fi < f; fi++) for (let ci = 0; ci < c; ci++) out[(flipped * c + ci) * f + fi] = d.data[(t * f + fi) * c + ci];
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < k[i]) break;
      idx[i] = 0;
    }
  }
  return { shape: [...k, c, f], data: out };
}

/** Pads around the zero-inserted input so a valid stride-1 correlation gives the output: K - 1 - pads. */
export function spreadPads(node: Node, pads: [number, number][]): [number, number][] {
  const p = node.params;
  return pads.map(([b, a], i) => {
    const K = (p.kernelSize[i] - 1) * p.dilation[i] + 1;
    return [K - 1 - b, K - 1 - a];
  });
}

/** The input on the output grid: zeros between cells (stride), then padded or cropped (spreadPads). */
export function spreadInput(tf: TF, node: Node, x: Tensor): Tensor {
  const pads = transposePads(node, spatialOf(x));
  return padOrCrop(tf, zeroInsert(tf, x, node.params.strides), spreadPads(node, pads));
}

const kernels = new WeakMap<WeightTensor, WeightTensor>();

function cachedKernel(node: Node): WeightTensor {
  const w = node.weights.kernel;
  let k = kernels.get(w);
  if (!k) kernels.set(w, (k = correlationKernel(w, node.params.rank, node.params.dilation)));
  return k;
}

export const convTranspose: KindModule<'ConvTranspose'> = {
  kind: 'ConvTranspose',
  inferShape(node, inputs): Shape {
    const { p, x } = spatialInput(node, inputs, checkParams);
    const ci = channels(node, x);
    expectWeight(node, 'kernel', [...p.kernelSize, p.filters, ci]);
    if (p.useBias) expectWeight(node, 'bias', [p.filters]);
    const spatial = x.slice(1, -1);
    const pads = transposePads(node, spatial);
    if (p.padding.mode !== 'explicit') p.padding.pads = pads;
    const out = transposedSize(p, spatial, pads);
    if (out.some((d) => d !== null && d < 1)) badConfig(node, `transposed conv ${node.name}: pads ${JSON.stringify(pads)} leave no output for input ${JSON.stringify(spatial)}`);
    return checkSize(node, [x[0], ...out, p.filters]);
  },
  forward(node, inputs, tf) {
    const p = node.params;
    const k = cachedKernel(node);
    const plain: LayerNodeOf<'Conv'> = {
      ...node,
      kind: 'Conv',
      params: {
        rank: p.rank, filters: p.filters, kernelSize: k.shape.slice(0, p.rank), strides: p.strides.map(() => 1), dilation: p.dilation.map(() => 1),
        padding: { mode: 'valid', pads: [] }, groups: 1, useBias: p.useBias,
      },
      weights: { ...node.weights, kernel: k },
    };
    return conv.forward(plain, [spreadInput(tf, node, inputs[0])], tf);
  },
};
