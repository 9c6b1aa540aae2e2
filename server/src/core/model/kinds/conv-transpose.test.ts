/**
 * ConvTranspose and PReLU on hand-built graphs against loop implementations written here from the
 * frameworks' definitions: a transposed conv scatters x[o] * w[k] onto o*s + k*d - before (TF
 * conv2d_transpose, PyTorch ConvTranspose); Keras's output size is keras.utils.conv_utils'
 * deconv_output_length and TF's pad_before floor(max((n-1)s + K - out, 0) / 2). Also the LRP engine's
 * VJP of the layer (lrp/linear.ts) against tf.grad, and the Euler identity of the forward.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '@tensorflow/tfjs';
import { tf, useBackend } from '../../backend.js';
import type { ConvTransposeParams, LayerNode, LayerNodeOf, ModelGraph, Shape, WeightTensor } from '../graph.js';
import { inferShapes } from '../shapes.js';
import { runGraph } from '../execute.js';
import { canonicalize } from '../canonicalize.js';
import { LinearLayer } from '../../lrp/linear.js';
import { LensError } from '../../errors.js';
import { mulberry32 as rng } from '../../random.js';
import { relError as maxRelError } from '../../../testing/arrays.js';

before(async () => {
  await useBackend('wasm');
});

function randArray(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

const W = (shape: number[], seed: number): WeightTensor => ({ shape, data: randArray(shape.reduce((a, b) => a * b, 1), seed) });

function graphOf(inShape: Shape, layer: LayerNode): ModelGraph {
  const input = { name: 'in0', kind: 'Input', inbound: [], params: {}, weights: {}, activation: { name: 'linear' }, outputShape: inShape, source: { className: 'Input' } } as unknown as LayerNode;
  return inferShapes({
    file: '/test/model',
    name: 'test',
    format: { name: 'keras-h5', version: '2.x' },
    inputs: [{ node: 'in0', fileName: 'in0', fileShape: inShape, fileLayout: 'other' }],
    outputs: [{ node: layer.name, fileName: layer.name, fileShape: [], fileLayout: 'other' }],
    nodes: [input, layer],
  });
}

function transposeNode(p: Partial<ConvTransposeParams> & Pick<ConvTransposeParams, 'rank' | 'filters' | 'kernelSize' | 'strides'>, cin: number, seed: number): LayerNodeOf<'ConvTranspose'> {
  const params: ConvTransposeParams = { dilation: p.kernelSize.map(() => 1), padding: { mode: 'valid', pads: [] }, outputPadding: null, useBias: true, ...p };
  const weights: Record<string, WeightTensor> = { kernel: W([...p.kernelSize, p.filters, cin], seed) };
  if (params.useBias) weights.bias = W([p.filters], seed + 1);
  return { name: 't', kind: 'ConvTranspose', inbound: ['in0'], params, weights, activation: { name: 'linear' }, outputShape: [], source: { className: 'Conv2DTranspose' } };
}

/** Keras deconv_output_length and TF's pad_before for that output (per spatial dim). */
function kerasGeometry(n: number, k: number, s: number, d: number, padding: 'same' | 'valid', op: number | null): { out: number; before: number } {
  const K = k + (k - 1) * (d - 1);
  let out: number;
  if (op === null) out = padding === 'valid' ? n * s + Math.max(K - s, 0) : n * s;
  else out = (n - 1) * s + K - 2 * (padding === 'same' ? Math.floor(K / 2) : 0) + op;
  const before = padding === 'same' ? Math.floor(Math.max((n - 1) * s + K - out, 0) / 2) : 0;
  return { out, before };
}

/** The definition: y[b, o*s + k*d - before, f] += x[b, o, c] * w[k, f, c] (any rank), then + bias. */
function naiveTranspose(x: Float32Array, xs: number[], w: WeightTensor, bias: Float32Array | null, s: number[], d: number[], before: number[], out: number[]): Float64Array {
  const r = xs.length - 2;
  const [nb, c] = [xs[0], xs[r + 1]];
  const k = w.shape.slice(0, r);
  const f = w.shape[r];
  const y = new Float64Array(nb * out.reduce((a, b) => a * b, 1) * f);
  const inSp = xs.slice(1, r + 1);
  const each = (dims: number[], fn: (idx: number[]) => void) => {
    const idx = new Array<number>(dims.length).fill(0);
    const total = dims.reduce((a, b) => a * b, 1);
    for (let t = 0; t < total; t++) {
      fn(idx);
      for (let i = dims.length - 1; i >= 0; i--) {
        if (++idx[i] < dims[i]) break;
        idx[i] = 0;
      }
    }
  };
  for (let b = 0; b < nb; b++) {
    each(inSp, (o) => {
      const xoff = (b * inSp.reduce((a, q) => a * q, 1) + o.reduce((a, v, i) => a * inSp[i] + v, 0)) * c;
      each(k, (kk) => {
        const p = o.map((oi, i) => oi * s[i] + kk[i] * d[i] - before[i]);
        if (p.some((pi, i) => pi < 0 || pi >= out[i])) return;
        const yoff = (b * out.reduce((a, q) => a * q, 1) + p.reduce((a, v, i) => a * out[i] + v, 0)) * f;
        const woff = kk.reduce((a, v, i) => a * k[i] + v, 0) * f * c;
        for (let fi = 0; fi < f; fi++) {
          let acc = 0;
          for (let ci = 0; ci < c; ci++) acc += x[xoff + ci] * w.data[woff + fi * c + ci];
          y[yoff + fi] += acc;
        }
      });
    });
  }
  if (bias) for (let i = 0; i < y.length; i++) y[i] += bias[i % f];
  return y;
}

function runLayer(g: ModelGraph, x: Float32Array, shape: number[]): { shape: number[]; data: Float32Array } {
  const y = tf.tidy(() => runGraph(g, tf.tensor(x, shape)));
  const out = { shape: y.shape, data: y.dataSync() as Float32Array };
  y.dispose();
  return out;
}

interface Case {
  what: string;
  xShape: number[];
  node: LayerNodeOf<'ConvTranspose'>;
  /** Keras padding (from kerasGeometry) or ONNX/PyTorch explicit [before, after] with output_padding. */
  keras?: 'same' | 'valid';
  torch?: { pads: [number, number][]; op: number[] };
}

function cases(): Case[] {
  const t = transposeNode;
  return [
    { what: 'Conv2DTranspose same s2 k3 (the decoder)', xShape: [2, 5, 4, 3], node: t({ rank: 2, filters: 4, kernelSize: [3, 3], strides: [2, 2], padding: { mode: 'same', pads: [] } }, 3, 1), keras: 'same' },
    { what: 'Conv2DTranspose valid s3 k2 (k < s: bias-only cells)', xShape: [2, 4, 3, 2], node: t({ rank: 2, filters: 3, kernelSize: [2, 2], strides: [3, 3] }, 2, 2), keras: 'valid' },
    { what: 'Conv2DTranspose same s2 k4 output_padding 1', xShape: [1, 4, 5, 2], node: t({ rank: 2, filters: 2, kernelSize: [4, 4], strides: [2, 2], padding: { mode: 'same', pads: [] }, outputPadding: [1, 1] }, 2, 3), keras: 'same' },
    { what: 'Conv2DTranspose valid s(2,1) k3 dilation (1,2) output_padding (1,0)', xShape: [2, 4, 5, 3], node: t({ rank: 2, filters: 2, kernelSize: [3, 3], strides: [2, 1], dilation: [1, 2], outputPadding: [1, 0] }, 3, 4), keras: 'valid' },
    { what: 'Conv1DTranspose same s2 k5, no bias', xShape: [2, 7, 3], node: t({ rank: 1, filters: 4, kernelSize: [5], strides: [2], padding: { mode: 'same', pads: [] }, useBias: false }, 3, 5), keras: 'same' },
    { what: 'Conv1DTranspose valid s1 k3 dilation 2', xShape: [2, 6, 2], node: t({ rank: 1, filters: 3, kernelSize: [3], strides: [1], dilation: [2] }, 2, 6), keras: 'valid' },
    { what: 'Conv3DTranspose same s(2,1,2) k(2,3,3)', xShape: [1, 3, 4, 3, 2], node: t({ rank: 3, filters: 2, kernelSize: [2, 3, 3], strides: [2, 1, 2], padding: { mode: 'same', pads: [] } }, 2, 7), keras: 'same' },
    // ONNX/PyTorch: explicit pads with output_padding folded in (after = pad_end - output_padding, here negative).
    { what: 'ConvTranspose2d s2 k3 pads (1,0 / 0,0) output_padding (1,1)', xShape: [2, 4, 3, 2], node: t({ rank: 2, filters: 3, kernelSize: [3, 3], strides: [2, 2], padding: { mode: 'explicit', pads: [[1, -1], [0, -1]] } }, 2, 8), torch: { pads: [[1, 0], [0, 0]], op: [1, 1] } },
    { what: 'ConvTranspose1d s3 k4 d2 p(2,1)', xShape: [2, 5, 3], node: t({ rank: 1, filters: 2, kernelSize: [4], strides: [3], dilation: [2], padding: { mode: 'explicit', pads: [[2, 1]] } }, 3, 9), torch: { pads: [[2, 1]], op: [0] } },
  ];
}

test('ConvTranspose forward matches the scatter definition (Keras sizes and pads, PyTorch pads and output_padding)', () => {
  for (const c of cases()) {
    const p = c.node.params;
    const r = p.rank;
    const spatial = c.xShape.slice(1, r + 1);
    let out: number[];
    let before: number[];
    if (c.keras) {
      const geo = spatial.map((n, i) => kerasGeometry(n, p.kernelSize[i], p.strides[i], p.dilation[i], c.keras!, p.outputPadding?.[i] ?? null));
      out = geo.map((q) => q.out);
      before = geo.map((q) => q.before);
    } else {
      // PyTorch: out = (n - 1) s - pad_begin - pad_end + d (k - 1) + output_padding + 1.
      out = spatial.map((n, i) => (n - 1) * p.strides[i] - c.torch!.pads[i][0] - c.torch!.pads[i][1] + p.dilation[i] * (p.kernelSize[i] - 1) + c.torch!.op[i] + 1);
      before = c.torch!.pads.map((q) => q[0]);
    }
    const g = graphOf([null, ...c.xShape.slice(1)], c.node);
    assert.deepEqual(g.nodes[1].outputShape, [null, ...out, p.filters], `${c.what}: shape`);
    const x = randArray(c.xShape.reduce((a, b) => a * b, 1), 100 + p.kernelSize[0]);
    const got = runLayer(g, x, c.xShape);
    assert.deepEqual(got.shape, [c.xShape[0], ...out, p.filters], `${c.what}: run shape`);
    const want = naiveTranspose(x, c.xShape, c.node.weights.kernel, p.useBias ? c.node.weights.bias.data : null, p.strides, p.dilation, before, out);
    const err = maxRelError(got.data, want);
    assert.ok(err < 1e-6, `${c.what}: relative error ${err}`);
  }
});

test('the LRP engine\'s VJP of ConvTranspose (a strided conv of dy) equals tf.grad of its forward, and the forward is linear (Euler identity)', () => {
  for (const c of cases()) {
    const g = graphOf([null, ...c.xShape.slice(1)], c.node);
    const node = g.nodes[1] as LayerNodeOf<'ConvTranspose'>;
    const layer = new LinearLayer(node);
    const [errVjp, lhs, rhs] = tf.tidy(() => {
      const k = tf.tensor(layer.kernel.data, layer.kernel.shape);
      const x = tf.tensor(randArray(c.xShape.reduce((a, b) => a * b, 1), 7), c.xShape);
      const y = layer.forward(tf, x, k);
      const dy = tf.tensor(randArray(y.size, 8), y.shape);
      const fast = layer.backward(tf, dy, layer.backwardKernel(tf, k), c.xShape);
      const ref = layer.backwardGrad(tf, dy, k, c.xShape);
      const e = tf.max(tf.abs(tf.sub(fast, ref))).dataSync()[0] / tf.max(tf.abs(ref)).dataSync()[0];
      const f = (t: Tensor) => tf.sum(layer.forward(tf, t, k));
      const grad = tf.grad(f)(x);
      return [e, tf.sum(tf.mul(grad, x)).dataSync()[0], f(x).dataSync()[0]];
    });
    assert.ok(errVjp < 1e-6, `${c.what}: VJP relative error ${errVjp}`);
    assert.ok(Math.abs(lhs - rhs) <= 1e-4 * Math.max(1, Math.abs(rhs)), `${c.what}: Euler ${lhs} vs ${rhs}`);
  }
});

test('ConvTranspose refuses bad configs with LensErrors naming the layer', () => {
  const bad: [string, LayerNodeOf<'ConvTranspose'>, number[]][] = [
    ['output_padding >= stride', transposeNode({ rank: 2, filters: 2, kernelSize: [3, 3], strides: [2, 2], outputPadding: [2, 0] }, 2, 1), [1, 4, 4, 2]],
    ['causal padding', transposeNode({ rank: 1, filters: 2, kernelSize: [3], strides: [1], padding: { mode: 'causal', pads: [] } }, 2, 1), [1, 4, 2]],
    ['kernel of the wrong layout', { ...transposeNode({ rank: 2, filters: 3, kernelSize: [3, 3], strides: [2, 2] }, 2, 1), weights: { kernel: W([3, 3, 2, 3], 1), bias: W([3], 2) } }, [1, 4, 4, 2]],
    ['pads that leave no output', transposeNode({ rank: 1, filters: 2, kernelSize: [2], strides: [1], padding: { mode: 'explicit', pads: [[2, 2]] } }, 2, 1), [1, 1, 2]],
  ];
  for (const [what, n, shape] of bad) {
    assert.throws(() => graphOf([null, ...shape.slice(1)], n), (e: unknown) => e instanceof LensError && e.layer === 't' && /UNSUPPORTED_CONFIG|WEIGHT_MISMATCH|SHAPE_MISMATCH/.test(e.code), what);
  }
});

function preluNode(alpha: WeightTensor): LayerNode {
  return { name: 'p', kind: 'PReLU', inbound: ['in0'], params: { sharedAxes: [] }, weights: { alpha }, activation: { name: 'linear' }, outputShape: [], source: { className: 'PReLU' } };
}

test('PReLU: per-position and shared-axis slopes (x >= 0: x, else alpha x) match the loop; bad alpha shapes are refused', () => {
  const xShape = [2, 3, 4, 5];
  const x = randArray(2 * 3 * 4 * 5, 21);
  for (const aShape of [[3, 4, 5], [1, 1, 5], [3, 1, 1], [1, 4, 1]]) {
    const alpha = W(aShape, 22);
    const got = runLayer(graphOf([null, 3, 4, 5], preluNode(alpha)), x, xShape).data;
    for (let i = 0; i < x.length; i++) {
      const [h, w, c] = [Math.floor(i / 20) % 3, Math.floor(i / 5) % 4, i % 5];
      const a = alpha.data[(aShape[0] === 1 ? 0 : h) * aShape[1] * aShape[2] + (aShape[1] === 1 ? 0 : w) * aShape[2] + (aShape[2] === 1 ? 0 : c)];
      const want = x[i] >= 0 ? x[i] : a * x[i];
      assert.ok(Math.abs(got[i] - want) <= 1e-7, `alpha ${aShape}: ${got[i]} vs ${want} at ${i}`);
    }
  }
  for (const aShape of [[3, 4], [2, 4, 5], [1, 1, 4]]) {
    assert.throws(() => graphOf([null, 3, 4, 5], preluNode(W(aShape, 1))), (e: unknown) => e instanceof LensError && e.code === 'WEIGHT_MISMATCH', `alpha ${aShape}`);
  }
});

test('a BatchNorm after a ConvTranspose merges into it (output channel = the kernel\'s second-to-last axis); outputs unchanged', () => {
  const t = transposeNode({ rank: 2, filters: 3, kernelSize: [3, 3], strides: [2, 2], padding: { mode: 'same', pads: [] } }, 2, 31);
  const r = rng(32);
  const bn = {
    name: 'bn', kind: 'BatchNorm', inbound: ['t'], params: { epsilon: 1e-3, axis: -1, center: true, scale: true }, activation: { name: 'relu' }, outputShape: [], source: { className: 'BatchNormalization' },
    weights: { gamma: W([3], 33), beta: W([3], 34), movingMean: W([3], 35), movingVariance: { shape: [3], data: Float32Array.from([0.5, 1.5, 2.5].map((v) => v + r())) } },
  } as unknown as LayerNode;
  const input = { name: 'in0', kind: 'Input', inbound: [], params: {}, weights: {}, activation: { name: 'linear' }, outputShape: [null, 4, 5, 2], source: { className: 'Input' } } as unknown as LayerNode;
  const g = inferShapes({
    file: '/test/model', name: 'bn', format: { name: 'keras-h5', version: '2.x' },
    inputs: [{ node: 'in0', fileName: 'in0', fileShape: [null, 4, 5, 2], fileLayout: 'other' }],
    outputs: [{ node: 'bn', fileName: 'bn', fileShape: [], fileLayout: 'other' }],
    nodes: [input, t, bn],
  });
  const c = canonicalize(g);
  assert.deepEqual(c.mergedBatchNorms, [{ batchNorm: 'bn', into: 't' }]);
  const x = randArray(2 * 4 * 5 * 2, 36);
  const a = runLayer(g, x, [2, 4, 5, 2]).data;
  const b = runLayer(c.graph, x, [2, 4, 5, 2]).data;
  assert.ok(maxRelError(b, a) < 1e-6, `canonical output differs: ${maxRelError(b, a)}`);
});
