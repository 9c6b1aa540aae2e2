/**
 * The ONNX loader on real PyTorch exports (../shared) and on constructed files (PyTorch opset 9/13
 * style, keras2onnx style, external data, broken files). Numbers are checked against the reference
 * logits and against a naive NCHW interpreter (testing/onnx-naive.ts) that shares no code with the loader.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { useBackend } from '../../backend.js';
import { toFloat32 } from '../../array.js';
import { BENCH, REAL, REF, scratchDir } from '../../../testing/paths.js';
import { OnnxBuilder } from '../../../testing/onnx-writer.js';
import { type Arr, runNaive } from '../../../testing/onnx-naive.js';
import { LensError } from '../../errors.js';
import type { LayerNode, ModelGraph } from '../graph.js';
import { loadModel } from '../load.js';
import { predict } from '../execute.js';
import { onnxFormat } from './onnx.js';
import { mulberry32 as rng } from '../../random.js';
import { readNpyFile as npy, worstRelPerSample as worstRel } from '../../../testing/arrays.js';

before(async () => {
  await useBackend('wasm');
});

const DIR = scratchDir('onnx-loader');

const rand = (n: number, seed: number, scale = 1): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};
const count = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

async function refusal(path: string): Promise<LensError> {
  try {
    await loadModel(path);
  } catch (e) {
    assert.ok(e instanceof LensError, `expected a LensError, got ${String(e)}`);
    return e;
  }
  assert.fail(`${path} loaded, expected a refusal`);
}

const kinds = (g: ModelGraph): string[] => g.nodes.map((n) => n.kind);
const byKind = (g: ModelGraph, k: string): LayerNode[] => g.nodes.filter((n) => n.kind === k);

/** Predict with the loader, compare with the naive interpreter on the same file-layout input. */
async function checkAgainstNaive(path: string, inputName: string, shape: number[], seed: number, tol = 1e-4): Promise<ModelGraph> {
  const g = await loadModel(path);
  const x = Float32Array.from(rand(count(shape), seed));
  const y = predict(g, { shape, data: x, dtype: 'f4' });
  const ref = runNaive(readFileSync(path), { [inputName]: { shape, data: Array.from(x) } }, dirname(path));
  const want = Object.values(ref)[0] as Arr;
  assert.deepEqual(y.shape, want.shape);
  const err = worstRel(toFloat32(y), want.data, shape[0]);
  assert.ok(err <= tol, `relative error ${err} above ${tol}`);
  return g;
}

// ---------------------------------------------------------------- real files

for (const model of ['mlp', 'cnn_same']) {
  test(`lrp-reference/${model}/model.onnx reproduces logits.npy (NCHW input)`, async () => {
    const dir = join(REF, model);
    const g = await loadModel(join(dir, 'model.onnx'));
    assert.equal(g.format.name, 'onnx');
    assert.equal(g.format.version, 'opset 13');
    assert.deepEqual(g.inputs[0].fileShape, [null, 1, 16, 32]);
    assert.equal(g.inputs[0].fileLayout, 'NCHW');
    assert.equal(g.outputs[0].fileLayout, 'NC');
    const flat = byKind(g, 'Flatten');
    assert.equal(flat.length, 1);
    assert.equal((flat[0].params as { channelsFirst: boolean }).channelsFirst, true);
    const x = npy(join(dir, 'x_nchw.npy'));
    const want = npy(join(dir, 'logits.npy'));
    const y = predict(g, x);
    assert.deepEqual(y.shape, want.shape);
    const err = worstRel(toFloat32(y), toFloat32(want), x.shape[0]);
    assert.ok(err <= 1e-4, `relative error ${err}`);
  });
}

test('cnn_same ONNX conv kernel is the OIHW weight at the transposed index', async () => {
  const path = join(REF, 'cnn_same', 'model.onnx');
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  const t = m.graph!.initializer!.find((i) => i.name === '3.weight')!;
  const raw = t.rawData!;
  const w = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const [O, I, KH, KW] = (t.dims ?? []).map(Number);
  const g = await onnxFormat.load(path, {});
  const conv = g.nodes.find((n) => n.name === '/3/Conv')!;
  assert.equal(conv.kind, 'Conv');
  const k = conv.weights.kernel;
  assert.deepEqual(k.shape, [KH, KW, I, O]);
  for (const [o, i, kh, kw] of [[0, 0, 0, 0], [15, 7, 2, 1], [3, 5, 1, 2], [9, 2, 0, 2]]) {
    assert.equal(k.data[((kh * KW + kw) * I + i) * O + o], w[((o * I + i) * KH + kh) * KW + kw]);
  }
  const pad = (conv.params as { padding: { mode: string; pads: number[][] } }).padding;
  assert.equal(pad.mode, 'explicit');
  assert.deepEqual(pad.pads, [[1, 1], [1, 1]]);
});

test('bench/sst_cnn.onnx reproduces logits.npy on batch64 transposed to NCHW', async () => {
  const g = await loadModel(join(BENCH, 'sst_cnn.onnx'));
  const xh = npy(join(BENCH, 'batch64_nhwc.npy'));
  const [n, h, w, c] = xh.shape;
  const v = toFloat32(xh);
  const x = new Float32Array(v.length);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let q = 0; q < w; q++) for (let k = 0; k < c; k++) {
    x[((i * c + k) * h + y) * w + q] = v[((i * h + y) * w + q) * c + k];
  }
  const want = npy(join(BENCH, 'logits.npy'));
  const y = predict(g, { shape: [n, c, h, w], data: x, dtype: 'f4' });
  const err = worstRel(toFloat32(y), toFloat32(want), n);
  assert.ok(err <= 1e-4, `relative error ${err}`);
});

test('deepeverest mnist.onnx (opset 9, Constant+Reshape flatten, LogSoftmax) matches a naive NCHW run', async () => {
  const path = join(REAL, 'deepeverest-mnist', 'mnist.onnx');
  const g = await checkAgainstNaive(path, 'input.1', [3, 1, 28, 28], 7);
  assert.equal(g.format.version, 'opset 9');
  assert.deepEqual(kinds(g), ['Input', 'Conv', 'Pool', 'Activation', 'Conv', 'Pool', 'Activation', 'Flatten', 'Dense', 'Activation', 'Dense', 'Activation']);
  const flat = byKind(g, 'Flatten')[0];
  assert.equal((flat.params as { channelsFirst: boolean }).channelsFirst, true);
  assert.deepEqual(flat.source.onnxNodes, ['Constant_6', 'Reshape_7']);
  const last = g.nodes[g.nodes.length - 1];
  assert.deepEqual((last.params as { activation: unknown }).activation, { name: 'log_softmax', axis: -1 });
  // The file declares batch 1; the graph runs any batch (checked with 3 above).
  assert.deepEqual(g.inputs[0].fileShape, [1, 1, 28, 28]);
});

// ---------------------------------------------------------------- constructed: PyTorch style

/** A PyTorch-style opset-13 CNN: symbolic batch, external weights, BN, ceil_mode pooling, grouped and depthwise conv, Shape/Gather flatten, Gemm, MatMul+Add. */
function pytorchCnn(dir: string, external: boolean): string {
  const b = new OnnxBuilder(13, 'pytorch', '2.1.0');
  b.input('input', ['batch', 3, 9, 11]);
  const w0 = rand(4 * 3 * 3 * 3, 1, 0.5);
  if (external) {
    const bytes = new Uint8Array(16 + w0.length * 4);
    bytes.set(new Uint8Array(Float32Array.from(w0).buffer), 16);
    writeFileSync(join(dir, 'cnn.weights'), bytes);
    b.external('c0.weight', [4, 3, 3, 3], 'cnn.weights', 16, w0.length * 4);
  } else {
    b.init('c0.weight', [4, 3, 3, 3], w0);
  }
  b.init('c0.bias', [4], rand(4, 2));
  let x = b.node('Conv', ['input', 'c0.weight', 'c0.bias'], { kernel_shape: [3, 3], pads: [1, 0, 2, 1], strides: [1, 1] }, { name: '/c0/Conv' });
  b.init('bn.w', [4], rand(4, 3, 0.5).map((v) => v + 1));
  b.init('bn.b', [4], rand(4, 4));
  b.init('bn.m', [4], rand(4, 5));
  b.init('bn.v', [4], rand(4, 6).map((v) => v * v + 0.5));
  x = b.node('BatchNormalization', [x, 'bn.w', 'bn.b', 'bn.m', 'bn.v'], { epsilon: 1e-3, momentum: 0.9 }, { name: '/bn/BatchNormalization' });
  x = b.node('Relu', [x]);
  x = b.node('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 0 }, { name: '/pool/AveragePool' });
  b.init('dw.weight', [8, 1, 3, 3], rand(72, 7, 0.5));
  x = b.node('Conv', [x, 'dw.weight'], { kernel_shape: [3, 3], group: 4, auto_pad: 'SAME_UPPER', strides: [1, 1] }, { name: '/dw/Conv' });
  b.init('g.weight', [6, 4, 1, 1], rand(24, 8, 0.5));
  b.init('g.bias', [6], rand(6, 9));
  x = b.node('Conv', [x, 'g.weight', 'g.bias'], { kernel_shape: [1, 1], group: 2, dilations: [1, 1] }, { name: '/g/Conv' });
  x = b.node('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, { name: '/mp/MaxPool' });
  // PyTorch's x.view(x.size(0), -1)
  const shp = b.node('Shape', [x], {}, { name: '/Shape' });
  b.init('zero', [], [0], { int64: true });
  const g0 = b.node('Gather', [shp, 'zero'], { axis: 0 }, { name: '/Gather' });
  b.init('axes0', [1], [0], { int64: true });
  const u = b.node('Unsqueeze', [g0, 'axes0'], {}, { name: '/Unsqueeze' });
  b.init('minus1', [1], [-1], { int64: true });
  const cat = b.node('Concat', [u, 'minus1'], { axis: 0 }, { name: '/Concat' });
  x = b.node('Reshape', [x, cat], {}, { name: '/Reshape' });
  // pooled: 9x11 -> conv 10x10 -> avgpool ceil 6x6 (k3 s2 p1) -> 6x6 -> maxpool ceil 3x3: 6*3*3 = 54
  b.init('fc1.weight', [10, 54], rand(540, 10, 0.3));
  b.init('fc1.bias', [10], rand(10, 11));
  x = b.node('Gemm', [x, 'fc1.weight', 'fc1.bias'], { alpha: 0.5, beta: { f: 2 }, transB: 1 }, { name: '/fc1/Gemm' });
  x = b.node('Relu', [x]);
  b.init('fc2.weight', [10, 5], rand(50, 12, 0.3));
  x = b.node('MatMul', [x, 'fc2.weight'], {}, { name: '/fc2/MatMul' });
  b.init('fc2.bias', [5], rand(5, 13));
  x = b.node('Add', [x, 'fc2.bias'], {}, { name: '/fc2/Add', outputs: ['logits'] });
  x = b.node('LogSoftmax', [x], { axis: 1 }, { name: '/LogSoftmax', outputs: ['logprob'] });
  b.output('logprob', ['batch', 5]);
  return b.write(join(dir, external ? 'cnn_ext.onnx' : 'cnn.onnx'));
}

test('PyTorch-style opset 13 CNN: structure, weight layouts and outputs match a naive NCHW run', async () => {
  const path = pytorchCnn(DIR, false);
  const g = await checkAgainstNaive(path, 'input', [2, 3, 9, 11], 21);
  assert.deepEqual(kinds(g), ['Input', 'Conv', 'BatchNorm', 'Activation', 'Pool', 'DepthwiseConv', 'Conv', 'Pool', 'Flatten', 'Dense', 'Activation', 'Dense', 'Activation']);
  assert.deepEqual(g.inputs[0].fileShape, [null, 3, 9, 11]);
  assert.equal(g.inputs[0].fileLayout, 'NCHW');
  assert.deepEqual(g.nodes[0].outputShape, [null, 9, 11, 3]);
  const [, c0, bn, , avg, dw, gc, mp, flat, fc1, , fc2, sm] = g.nodes;
  assert.deepEqual((c0.params as { padding: unknown }).padding, { mode: 'explicit', pads: [[1, 2], [0, 1]] });
  assert.equal(Math.fround((bn.params as { epsilon: number }).epsilon), Math.fround(1e-3));
  assert.deepEqual({ ...(avg.params as object), padding: undefined }, { op: 'avg', rank: 2, poolSize: [3, 3], strides: [2, 2], padding: undefined, ceilMode: true, countIncludePad: false });
  assert.equal((dw.params as { depthMultiplier: number }).depthMultiplier, 2);
  assert.equal((dw.params as { padding: { mode: string } }).padding.mode, 'same');
  assert.deepEqual(dw.weights.kernel.shape, [3, 3, 4, 2]);
  assert.equal((gc.params as { groups: number }).groups, 2);
  assert.deepEqual(gc.weights.kernel.shape, [1, 1, 4, 6]);
  assert.equal((mp.params as { ceilMode: boolean }).ceilMode, true);
  assert.equal((flat.params as { channelsFirst: boolean }).channelsFirst, true);
  assert.deepEqual(flat.source.onnxNodes, ['/Shape', '/Gather', '/Unsqueeze', '/Concat', '/Reshape']);
  assert.deepEqual(fc1.weights.kernel.shape, [54, 10]);
  assert.deepEqual(fc2.source.onnxNodes, ['/fc2/MatMul', '/fc2/Add']);
  assert.equal((fc2.params as { useBias: boolean }).useBias, true);
  assert.equal(fc2.name, '/fc2/MatMul');
  assert.equal(sm.kind, 'Activation');
  assert.equal(g.outputs[0].fileName, 'logprob');
  assert.deepEqual(g.outputs[0].fileShape, [null, 5]);
});

test('external data next to the model is read (offset and length honoured)', async () => {
  const path = pytorchCnn(DIR, true);
  const g = await checkAgainstNaive(path, 'input', [1, 3, 9, 11], 22);
  const plain = await onnxFormat.load(pytorchCnn(DIR, false), {});
  assert.deepEqual(g.nodes[1].weights.kernel.data, plain.nodes[1].weights.kernel.data);
});

/** Residual add, channel concat, GlobalAveragePool + Flatten, Clip(0,6), LeakyRelu, per-channel Sub/Mul, Softmax. */
function branchy(dir: string): string {
  const b = new OnnxBuilder(13);
  b.input('x', ['N', 2, 6, 6]);
  b.init('mean', [1, 2, 1, 1], [0.5, -0.25]);
  b.init('inv', [1, 2, 1, 1], [2, 4]);
  let x = b.node('Sub', ['x', 'mean'], {}, { name: 'norm_sub' });
  x = b.node('Mul', [x, 'inv'], {}, { name: 'norm_mul' });
  b.init('a.w', [3, 2, 3, 3], rand(54, 31, 0.4));
  const a = b.node('Conv', [x, 'a.w'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv_a' });
  b.init('a.b', [1, 3, 1, 1], rand(3, 32));
  const ab = b.node('Add', [a, 'a.b'], {}, { name: 'conv_a_bias' });
  b.init('c.w', [3, 2, 3, 3], rand(54, 33, 0.4));
  const c = b.node('Conv', [x, 'c.w'], { kernel_shape: [3, 3], auto_pad: 'SAME_LOWER', strides: [2, 2] }, { name: 'conv_c' });
  b.init('up', [4], [1, 1, 2, 2]);
  b.init('roi', [0], []);
  const cu = b.node('Resize', [c, 'roi', 'up'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { name: 'up' });
  const r1 = b.node('Clip', [ab, 'c0', 'c6'], {}, { name: 'relu6' });
  b.init('c0', [], [0]);
  b.init('c6', [], [6]);
  const sum = b.node('Add', [r1, cu], {}, { name: 'residual' });
  const lr = b.node('LeakyRelu', [cu], { alpha: 0.1 }, { name: 'lrelu' });
  const cat = b.node('Concat', [sum, lr], { axis: 1 }, { name: 'cat' });
  const gp = b.node('GlobalAveragePool', [cat], {}, { name: 'gap' });
  const fl = b.node('Flatten', [gp], { axis: 1 }, { name: 'flat' });
  b.init('fc.w', [6, 3], rand(18, 34));
  b.init('fc.b', [3], rand(3, 35));
  const fc = b.node('Gemm', [fl, 'fc.w', 'fc.b'], {}, { name: 'fc' });
  b.node('Softmax', [fc], { axis: -1 }, { name: 'softmax', outputs: ['prob'] });
  b.output('prob', ['N', 3]);
  return b.write(join(dir, 'branchy.onnx'));
}

test('branches: bias folding, normalisation as BatchNorm, concat axis, GlobalAveragePool, Resize, Clip -> relu6', async () => {
  const path = branchy(DIR);
  const g = await checkAgainstNaive(path, 'x', [2, 2, 6, 6], 41);
  const names = g.nodes.map((n) => `${n.name}:${n.kind}`);
  assert.deepEqual(names, [
    'x:Input', 'norm_sub:BatchNorm', 'norm_mul:BatchNorm', 'conv_a:Conv', 'conv_c:Conv', 'up:UpSampling', 'relu6:Activation',
    'residual:Add', 'lrelu:Activation', 'cat:Concatenate', 'gap:GlobalPool', 'flat:Flatten', 'fc:Dense', 'softmax:Activation',
  ]);
  const conva = g.nodes.find((n) => n.name === 'conv_a')!;
  assert.deepEqual(conva.source.onnxNodes, ['conv_a', 'conv_a_bias']);
  assert.equal((conva.params as { useBias: boolean }).useBias, true);
  assert.deepEqual((g.nodes.find((n) => n.name === 'relu6')!.params as { activation: unknown }).activation, { name: 'relu6' });
  assert.equal((g.nodes.find((n) => n.name === 'cat')!.params as { axis: number }).axis, -1);
  assert.deepEqual((g.nodes.find((n) => n.name === 'gap')!.params as object), { op: 'avg', rank: 2, keepDims: true });
  assert.deepEqual((g.nodes.find((n) => n.name === 'up')!.params as object), { rank: 2, size: [2, 2], interpolation: 'nearest' });
  const cc = g.nodes.find((n) => n.name === 'conv_c')!;
  assert.deepEqual((cc.params as { padding: unknown }).padding, { mode: 'explicit', pads: [[1, 0], [1, 0]] });
  const mul = g.nodes.find((n) => n.name === 'norm_mul')!;
  assert.deepEqual(Array.from(mul.weights.gamma.data), [2, 4]);
  assert.equal((mul.params as { epsilon: number }).epsilon, 0);
});

test('opset 9 style: Clip/Unsqueeze attributes, Softmax axis 1, flattens by Constant [1, -1] and by Shape/Gather/Unsqueeze', async () => {
  const b = new OnnxBuilder(9, 'pytorch', '1.4.0');
  b.input('in', [1, 1, 4, 4]);
  b.init('w', [2, 1, 2, 2], rand(8, 51));
  let x = b.node('Conv', ['in', 'w'], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'Conv_0' });
  x = b.node('Clip', [x], { min: 0.0, max: 6.0 }, { name: 'Clip_1' });
  const shp = b.node('Constant', [], { value: { tensor: { dims: [2], dataType: 7, int64Data: [1, -1] } } }, { name: 'Constant_2' });
  x = b.node('Reshape', [x, shp], {}, { name: 'Reshape_3' });
  b.init('fc', [8, 3], rand(24, 52));
  x = b.node('MatMul', [x, 'fc'], {}, { name: 'MatMul_4' });
  b.node('Softmax', [x], { axis: 1 }, { name: 'Softmax_5', outputs: ['out'] });
  b.output('out', [1, 3]);
  const path = b.write(join(DIR, 'opset9.onnx'));
  // The file fixes batch 1 (Reshape to [1, -1]), so run it with batch 1.
  const g = await checkAgainstNaive(path, 'in', [1, 1, 4, 4], 53);
  assert.deepEqual(kinds(g), ['Input', 'Conv', 'Activation', 'Flatten', 'Dense', 'Activation']);
  assert.deepEqual((g.nodes[2].params as { activation: unknown }).activation, { name: 'relu6' });

  const c = new OnnxBuilder(9, 'pytorch', '1.4.0');
  c.input('in', ['batch', 2, 3, 3]);
  const s = c.node('Shape', ['in'], {}, { name: 'Shape_0' });
  c.init('i0', [], [0], { int64: true });
  const g0 = c.node('Gather', [s, 'i0'], { axis: 0 }, { name: 'Gather_1' });
  const u = c.node('Unsqueeze', [g0], { axes: [0] }, { name: 'Unsqueeze_2' });
  c.init('m1', [1], [-1], { int64: true });
  const cat = c.node('Concat', [u, 'm1'], { axis: 0 }, { name: 'Concat_3' });
  c.node('Reshape', ['in', cat], {}, { name: 'Reshape_4', outputs: ['out'] });
  c.output('out', ['batch', 18]);
  const g2 = await checkAgainstNaive(c.write(join(DIR, 'opset9-flatten.onnx')), 'in', [2, 2, 3, 3], 54);
  assert.deepEqual(kinds(g2), ['Input', 'Flatten']);
  assert.equal((g2.nodes[1].params as { channelsFirst: boolean }).channelsFirst, true);
});

test('tf2onnx/keras2onnx global pooling: ReduceMean over NHWC spatial axes -> GlobalPool', async () => {
  const b = new OnnxBuilder(12, 'tf2onnx', '1.9.0');
  b.input('img', ['N', 4, 4, 3]);
  b.init('k', [2, 3, 1, 1], rand(6, 121));
  const t = b.node('Transpose', ['img'], { perm: [0, 3, 1, 2] }, { name: 't_in' });
  let x = b.node('Conv', [t, 'k'], { kernel_shape: [1, 1] }, { name: 'conv' });
  x = b.node('Transpose', [x], { perm: [0, 2, 3, 1] }, { name: 't_out' });
  x = b.node('ReduceMean', [x], { axes: [1, 2], keepdims: 0 }, { name: 'gap', outputs: ['y'] });
  b.output('y', ['N', 2]);
  const g = await checkAgainstNaive(b.write(join(DIR, 'reducemean.onnx')), 'img', [2, 4, 4, 3], 122);
  assert.deepEqual(kinds(g), ['Input', 'Conv', 'GlobalPool']);
  assert.equal(g.inputs[0].fileLayout, 'NHWC');
  assert.deepEqual(g.nodes[2].params, { op: 'avg', rank: 2, keepDims: false });
});

test('keras2onnx style: NHWC input with Transposes, nodes out of order, MatMul+Add dense', async () => {
  const b = new OnnxBuilder(11, 'keras2onnx', '1.7.0');
  b.input('input_1', ['N', 5, 6, 2]);
  const t = b.node('Transpose', ['input_1'], { perm: [0, 3, 1, 2] }, { name: 'adjusted_input' });
  b.init('k', [3, 2, 3, 3], rand(54, 61, 0.5));
  b.init('kb', [3], rand(3, 62));
  let x = b.node('Conv', [t, 'k', 'kb'], { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER' }, { name: 'conv2d' });
  x = b.node('Relu', [x], {}, { name: 'conv2d_relu' });
  x = b.node('Transpose', [x], { perm: [0, 2, 3, 1] }, { name: 'conv2d_relu_nhwc' });
  b.init('shape', [2], [-1, 90], { int64: true });
  x = b.node('Reshape', [x, 'shape'], {}, { name: 'flatten' });
  b.init('dk', [90, 4], rand(360, 63, 0.2));
  x = b.node('MatMul', [x, 'dk'], {}, { name: 'dense/MatMul' });
  b.init('db', [4], rand(4, 64));
  x = b.node('Add', [x, 'db'], {}, { name: 'dense/BiasAdd' });
  b.node('Softmax', [x], { axis: 1 }, { name: 'dense/Softmax', outputs: ['dense'] });
  b.output('dense', ['N', 4]);
  b.reverseNodes();
  const path = b.write(join(DIR, 'keras2onnx.onnx'));
  const g = await checkAgainstNaive(path, 'input_1', [2, 5, 6, 2], 65);
  assert.equal(g.inputs[0].fileLayout, 'NHWC');
  assert.deepEqual(g.nodes[0].outputShape, [null, 5, 6, 2]);
  assert.deepEqual(kinds(g), ['Input', 'Conv', 'Activation', 'Flatten', 'Dense', 'Activation']);
  assert.equal((g.nodes[3].params as { channelsFirst: boolean }).channelsFirst, false);
  assert.deepEqual(g.nodes[4].source.onnxNodes, ['dense/MatMul', 'dense/BiasAdd']);
});

test('a non-flatten reshape of a channels-first tensor goes through a Permute', async () => {
  const b = new OnnxBuilder(13);
  b.input('x', ['N', 2, 3, 4]);
  b.init('s', [3], [0, 6, 4], { int64: true });
  let x = b.node('Reshape', ['x', 's'], {}, { name: 'rs' });
  b.init('w', [4, 2], rand(8, 71));
  x = b.node('MatMul', [x, 'w'], {}, { name: 'mm', outputs: ['y'] });
  b.output('y', ['N', 6, 2]);
  const path = b.write(join(DIR, 'reshape3d.onnx'));
  const g = await checkAgainstNaive(path, 'x', [2, 2, 3, 4], 72);
  assert.deepEqual(kinds(g), ['Input', 'Permute', 'Reshape', 'Dense']);
  assert.equal(g.outputs[0].fileLayout, 'NWC');
});

// ---------------------------------------------------------------- bad files

function tiny(opset = 13): OnnxBuilder {
  const b = new OnnxBuilder(opset);
  b.input('x', ['N', 4]);
  b.init('w', [4, 2], rand(8, 81));
  return b;
}

test('a cycle is GRAPH_CYCLE', async () => {
  const b = tiny();
  b.node('Add', ['x', 'b_out'], {}, { name: 'a', outputs: ['a_out'] });
  b.node('Relu', ['a_out'], {}, { name: 'b', outputs: ['b_out'] });
  b.output('b_out', ['N', 4]);
  const e = await refusal(b.write(join(DIR, 'cycle.onnx')));
  assert.equal(e.code, 'GRAPH_CYCLE');
});

test('an unknown op is UNSUPPORTED_OP naming the node and the op', async () => {
  const b = tiny();
  const m = b.node('MatMul', ['x', 'w'], {}, { name: 'mm' });
  b.node('FancyNorm', [m], {}, { name: 'my_norm', outputs: ['y'] });
  b.output('y', ['N', 2]);
  const e = await refusal(b.write(join(DIR, 'unknown-op.onnx')));
  assert.equal(e.code, 'UNSUPPORTED_OP');
  assert.equal(e.layer, 'my_norm');
  assert.match(e.message, /FancyNorm/);
  const c = tiny();
  c.node('MatMul', ['x', 'w'], {}, { name: 'mm2', outputs: ['m'] });
  c.node('Gelu', ['m'], {}, { name: 'ms_gelu', outputs: ['y'], domain: 'com.microsoft' });
  c.output('y', ['N', 2]);
  const e2 = await refusal(c.write(join(DIR, 'custom-domain.onnx')));
  assert.equal(e2.code, 'UNSUPPORTED_OP');
  assert.equal(e2.layer, 'ms_gelu');
});

test('ConvTranspose (pads, output_padding, dilations, strides, auto_pad SAME_*, 1-D) and per-channel PRelu match the spec interpreter', async () => {
  const cases: { what: string; x: number[]; w: number[]; attrs: Record<string, number[] | number | string> }[] = [
    { what: 'pytorch-style pads + output_padding', x: [2, 3, 5, 4], w: [3, 2, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] } },
    { what: 'asymmetric pads, dilation, stride (2,1)', x: [1, 2, 4, 5], w: [2, 3, 2, 3], attrs: { strides: [2, 1], pads: [0, 2, 1, 0], dilations: [2, 1] } },
    { what: 'k < s (cells with bias only)', x: [1, 2, 3, 3], w: [2, 2, 2, 2], attrs: { strides: [3, 3] } },
    { what: 'SAME_UPPER', x: [1, 2, 5, 4], w: [2, 3, 4, 3], attrs: { strides: [2, 2], auto_pad: 'SAME_UPPER' } },
    { what: 'SAME_LOWER with output_padding', x: [1, 2, 4, 4], w: [2, 2, 3, 3], attrs: { strides: [2, 2], auto_pad: 'SAME_LOWER', output_padding: [1, 0] } },
    { what: '1-D', x: [2, 3, 6], w: [3, 2, 4], attrs: { strides: [3], pads: [2, 1], dilations: [2] } },
  ];
  for (const [i, c] of cases.entries()) {
    const b = new OnnxBuilder(13);
    b.input('x', ['N', ...c.x.slice(1)]);
    b.init('w', c.w, rand(count(c.w), 70 + i));
    b.init('bias', [c.w[1]], rand(c.w[1], 80 + i));
    // A PRelu with per-channel slopes ([F, 1, 1] as PyTorch exports it) after the layer.
    b.init('slope', [c.w[1], ...c.x.slice(2).map(() => 1)], rand(c.w[1], 90 + i));
    const y = b.node('ConvTranspose', ['x', 'w', 'bias'], { kernel_shape: c.w.slice(2), ...c.attrs }, { name: 'deconv' });
    b.node('PRelu', [y, 'slope'], {}, { name: 'prelu', outputs: ['out'] });
    b.output('out');
    const g = await checkAgainstNaive(b.write(join(DIR, `deconv-${i}.onnx`)), 'x', c.x, 60 + i, 1e-5);
    assert.deepEqual(kinds(g).slice(1), ['ConvTranspose', 'PReLU'], c.what);
  }
});

test('ConvTranspose with group > 1 or an output_shape attribute is refused by name, saying what to do', async () => {
  const cases: [string, Record<string, number[] | number>][] = [
    ['grouped', { kernel_shape: [2, 2], group: 2 }],
    ['shaped', { kernel_shape: [2, 2], output_shape: [8, 8] }],
  ];
  for (const [name, attrs] of cases) {
    const b = new OnnxBuilder(13);
    b.input('x', ['N', 2, 4, 4]);
    b.init('w', [2, 1, 2, 2], new Array(8).fill(1));
    b.node('ConvTranspose', ['x', 'w'], attrs, { name, outputs: ['y'] });
    b.output('y');
    const e = await refusal(b.write(join(DIR, `deconv-${name}.onnx`)));
    assert.equal(e.code, 'UNSUPPORTED_CONFIG');
    assert.equal(e.layer, name);
    assert.match(e.message, name === 'grouped' ? /group 2 .*Concat/ : /output_shape.*explicit pads/);
  }
});

test('truncated bytes are TRUNCATED', async () => {
  const bytes = readFileSync(join(REF, 'cnn_same', 'model.onnx'));
  for (const frac of [0.5, 0.9]) {
    const p = join(DIR, `truncated-${frac}.onnx`);
    writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length * frac)));
    const e = await refusal(p);
    assert.equal(e.code, 'TRUNCATED', `${frac}: ${e.code} ${e.message}`);
  }
});

test('raw_data shorter than its dims is WEIGHT_MISMATCH', async () => {
  const b = new OnnxBuilder(13);
  b.input('x', ['N', 4]);
  b.init('w', [4, 2], rand(8, 91), { rawBytes: 20 });
  b.node('MatMul', ['x', 'w'], {}, { name: 'mm', outputs: ['y'] });
  b.output('y', ['N', 2]);
  const e = await refusal(b.write(join(DIR, 'short-raw.onnx')));
  assert.equal(e.code, 'WEIGHT_MISMATCH');
  assert.match(e.message, /"w"/);
});

test('absurd declared dims are refused before allocating (SHAPE_LIMIT)', async () => {
  const b = new OnnxBuilder(13);
  b.input('x', ['N', 4]);
  b.init('w', [4, 2], rand(8, 92), { dims: [4_000_000, 1_000_000] });
  b.node('MatMul', ['x', 'w'], {}, { name: 'mm', outputs: ['y'] });
  b.output('y', ['N', 2]);
  const e = await refusal(b.write(join(DIR, 'absurd.onnx')));
  assert.equal(e.code, 'SHAPE_LIMIT');
  // A few bytes asking for a huge computed constant.
  const c = new OnnxBuilder(13);
  c.input('x', ['N', 4]);
  c.init('shape', [2], [100000, 100000], { int64: true });
  const big = c.node('ConstantOfShape', ['shape'], {}, { name: 'big' });
  c.node('Add', ['x', big], {}, { name: 'add', outputs: ['y'] });
  c.output('y');
  const e2 = await refusal(c.write(join(DIR, 'absurd-const.onnx')));
  assert.equal(e2.code, 'SHAPE_LIMIT');
  assert.equal(e2.layer, 'big');
});

test('external data paths that leave the model folder are refused; a missing or short file is reported', async () => {
  const mk = (location: string, length = 32, name = 'ext'): string => {
    const b = new OnnxBuilder(13);
    b.input('x', ['N', 4]);
    b.external('w', [4, 2], location, 0, length);
    b.node('MatMul', ['x', 'w'], {}, { name: 'mm', outputs: ['y'] });
    b.output('y', ['N', 2]);
    return b.write(join(DIR, `${name}.onnx`));
  };
  for (const loc of ['../../etc/passwd', '/etc/passwd', '..']) {
    const e = await refusal(mk(loc, 32, 'escape'));
    assert.equal(e.code, 'CORRUPT', loc);
    assert.match(e.message, /leaves the model's folder/);
  }
  const missing = await refusal(mk('no-such.weights', 32, 'missing'));
  assert.equal(missing.code, 'FILE_NOT_FOUND');
  writeFileSync(join(DIR, 'short.weights'), new Uint8Array(8));
  const short = await refusal(mk('short.weights', 32, 'short'));
  assert.equal(short.code, 'TRUNCATED');
});

test('a Reshape that mixes batch and features is refused, not run wrongly', async () => {
  const b = tiny();
  b.init('s', [2], [-1, 2], { int64: true });
  b.node('Reshape', ['x', 's'], {}, { name: 'rs', outputs: ['y'] });
  b.output('y', ['N', 2]);
  const e = await refusal(b.write(join(DIR, 'batch-reshape.onnx')));
  assert.equal(e.code, 'UNSUPPORTED_CONFIG');
  assert.equal(e.layer, 'rs');
});

// ---------------------------------------------------------------- opset differences and patterns

test('GELU written as Div/Erf/Add/Mul/Mul (both orders) folds into one gelu activation', async () => {
  const b = new OnnxBuilder(13);
  b.input('x', ['N', 6]);
  b.init('w', [6, 4], rand(24, 101));
  const h = b.node('MatMul', ['x', 'w'], {}, { name: 'fc' });
  b.init('sqrt2', [], [Math.SQRT2]);
  b.init('one', [], [1]);
  b.init('half', [], [0.5]);
  const d = b.node('Div', [h, 'sqrt2'], {}, { name: 'g1/Div' });
  const e = b.node('Erf', [d], {}, { name: 'g1/Erf' });
  const a = b.node('Add', [e, 'one'], {}, { name: 'g1/Add' });
  const m = b.node('Mul', [h, a], {}, { name: 'g1/Mul' });
  const g1 = b.node('Mul', [m, 'half'], {}, { name: 'g1/Mul_1' });
  // second order: (x * 0.5) * (1 + erf(x * 1/sqrt2)), constants from Constant nodes
  const c1 = b.node('Constant', [], { value: { tensor: { dims: [], dataType: 1, floatData: [Math.SQRT1_2] } } }, { name: 'c_isqrt2' });
  const c2 = b.node('Constant', [], { value: { tensor: { dims: [], dataType: 1, floatData: [0.5] } } }, { name: 'c_half' });
  const hx = b.node('Mul', [g1, c2], {}, { name: 'g2/half' });
  const s2 = b.node('Mul', [g1, c1], {}, { name: 'g2/scale' });
  const e2 = b.node('Erf', [s2], {}, { name: 'g2/Erf' });
  const a2 = b.node('Add', ['one', e2], {}, { name: 'g2/Add' });
  b.node('Mul', [hx, a2], {}, { name: 'g2/Mul', outputs: ['y'] });
  b.output('y', ['N', 4]);
  const path = b.write(join(DIR, 'gelu.onnx'));
  const g = await checkAgainstNaive(path, 'x', [3, 6], 102);
  assert.deepEqual(kinds(g), ['Input', 'Dense', 'Activation', 'Activation']);
  assert.deepEqual((g.nodes[2].params as { activation: unknown }).activation, { name: 'gelu', approximate: false });
  assert.deepEqual(g.nodes[2].source.onnxNodes, ['g1/Div', 'g1/Erf', 'g1/Add', 'g1/Mul', 'g1/Mul_1']);
  assert.equal(g.nodes[3].source.onnxNodes?.length, 5);
});

test('opsets 9 and 13: Pad (attribute before 11, input from 11), Squeeze axes attribute, x*sigmoid(x) -> swish', async () => {
  for (const opset of [9, 13]) {
    const b = new OnnxBuilder(opset);
    b.input('x', ['N', 2, 5, 4]);
    let x: string;
    if (opset < 11) x = b.node('Pad', ['x'], { pads: [0, 0, 1, 2, 0, 0, 2, 1], mode: 'constant' }, { name: 'pad' });
    else {
      b.init('pads', [8], [0, 0, 1, 2, 0, 0, 2, 1], { int64: true });
      x = b.node('Pad', ['x', 'pads'], { mode: 'constant' }, { name: 'pad' });
    }
    b.init('w', [3, 2, 3, 3], rand(54, 111 + opset, 0.5));
    x = b.node('Conv', [x, 'w'], { kernel_shape: [3, 3] }, { name: 'conv' });
    const sg = b.node('Sigmoid', [x], {}, { name: 'sig' });
    x = b.node('Mul', [x, sg], {}, { name: 'swish' });
    x = b.node('GlobalAveragePool', [x], {}, { name: 'gap' });
    if (opset < 13) x = b.node('Squeeze', [x], { axes: [2, 3] }, { name: 'sq' });
    else {
      b.init('ax', [2], [2, 3], { int64: true });
      x = b.node('Squeeze', [x, 'ax'], {}, { name: 'sq' });
    }
    b.init('fc', [3, 2], rand(6, 113));
    b.node('MatMul', [x, 'fc'], {}, { name: 'fc', outputs: ['y'] });
    b.output('y', ['N', 2]);
    const path = b.write(join(DIR, `pad-${opset}.onnx`));
    const g = await checkAgainstNaive(path, 'x', [2, 2, 5, 4], 114);
    assert.deepEqual(kinds(g), ['Input', 'ZeroPadding', 'Conv', 'Activation', 'GlobalPool', 'Flatten', 'Dense'], `opset ${opset}`);
    assert.deepEqual((g.nodes[1].params as { pads: unknown }).pads, [[1, 2], [2, 1]]);
    assert.deepEqual((g.nodes[3].params as { activation: unknown }).activation, { name: 'swish' });
  }
});

test('opset < 13 Softmax over flattened C,H,W axes is refused; HardSigmoid keeps alpha/beta', async () => {
  const b = new OnnxBuilder(11);
  b.input('x', ['N', 2, 3, 3]);
  b.node('Softmax', ['x'], { axis: 1 }, { name: 'sm', outputs: ['y'] });
  b.output('y');
  const e = await refusal(b.write(join(DIR, 'softmax11.onnx')));
  assert.equal(e.code, 'UNSUPPORTED_CONFIG');
  assert.equal(e.layer, 'sm');
  const c = new OnnxBuilder(13);
  c.input('x', ['N', 3]);
  c.node('HardSigmoid', ['x'], { alpha: 1 / 6, beta: 0.5 }, { name: 'hs', outputs: ['y'] });
  c.output('y', ['N', 3]);
  const g = await onnxFormat.load(c.write(join(DIR, 'hardsigmoid.onnx')), {});
  const spec = (g.nodes[1].params as { activation: { name: string; alpha: number; beta: number } }).activation;
  assert.equal(spec.name, 'hard_sigmoid');
  assert.equal(spec.alpha, Math.fround(1 / 6));
  assert.equal(spec.beta, 0.5);
});

test('mutated files (flipped bytes, truncation) load or give a structured error, each within 2 s', async () => {
  const fixtures = [join(REF, 'cnn_same', 'model.onnx'), join(REAL, 'deepeverest-mnist', 'mnist.onnx'), branchy(DIR), pytorchCnn(DIR, false)];
  const r = rng(2024);
  const seen = new Map<string, number>();
  let worst = 0;
  for (let it = 0; it < 120; it++) {
    const src = readFileSync(fixtures[it % fixtures.length]);
    let m = Uint8Array.from(src);
    if (r() < 0.25) m = m.subarray(0, Math.floor(r() * m.length));
    else for (let k = 0; k < 1 + Math.floor(r() * 4); k++) m[Math.floor(r() * Math.min(m.length, r() < 0.7 ? 2000 : m.length))] = Math.floor(r() * 256);
    const p = join(DIR, 'fuzz.onnx');
    writeFileSync(p, m);
    // CPU time, not wall clock: the test machine is shared and a busy neighbour must not fail it.
    const c0 = process.cpuUsage();
    let code = 'loaded';
    try {
      await loadModel(p);
    } catch (e) {
      assert.ok(e instanceof LensError, `iteration ${it}: ${String(e)}`);
      assert.notEqual(e.code, 'INTERNAL', `iteration ${it}: ${e.message}`);
      code = e.code;
    }
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    worst = Math.max(worst, cpuMs);
    assert.ok(cpuMs < 2000, `iteration ${it} took ${cpuMs.toFixed(0)} ms of CPU`);
    seen.set(code, (seen.get(code) ?? 0) + 1);
  }
  console.log(`# onnx fuzz: outcomes ${JSON.stringify(Object.fromEntries(seen))}, most CPU for one file ${worst.toFixed(0)} ms`);
  // The mutations reach the decoder and the graph checks, not only one early exit.
  assert.ok(seen.size >= 3, JSON.stringify([...seen]));
});

test('Slice of spatial axes -> Cropping; Slice of the channel axis is refused', async () => {
  const b = new OnnxBuilder(13);
  b.input('x', ['N', 2, 7, 6]);
  b.init('st', [2], [1, 2], { int64: true });
  b.init('en', [2], [-2, 1000], { int64: true });
  b.init('ax', [2], [2, 3], { int64: true });
  b.node('Slice', ['x', 'st', 'en', 'ax'], {}, { name: 'crop', outputs: ['y'] });
  b.output('y', ['N', 2, 4, 4]);
  const g = await checkAgainstNaive(b.write(join(DIR, 'slice.onnx')), 'x', [2, 2, 7, 6], 131);
  assert.deepEqual(kinds(g), ['Input', 'Cropping']);
  assert.deepEqual(g.nodes[1].params, { rank: 2, crops: [[1, 2], [2, 0]] });
  const c = new OnnxBuilder(13);
  c.input('x', ['N', 4, 3, 3]);
  c.init('st', [1], [0], { int64: true });
  c.init('en', [1], [2], { int64: true });
  c.init('ax', [1], [1], { int64: true });
  c.node('Slice', ['x', 'st', 'en', 'ax'], {}, { name: 'chslice', outputs: ['y'] });
  c.output('y');
  const e = await refusal(c.write(join(DIR, 'slice-ch.onnx')));
  assert.equal(e.code, 'UNSUPPORTED_CONFIG');
  assert.equal(e.layer, 'chslice');
});

test('Upsample (opset 9), PRelu with one slope, Max(x, 0)', async () => {
  const b = new OnnxBuilder(9);
  b.input('x', ['N', 2, 3, 2]);
  b.init('scales', [4], [1, 1, 2, 3]);
  let x = b.node('Upsample', ['x', 'scales'], { mode: 'nearest' }, { name: 'up' });
  b.init('slope', [1], [0.25]);
  x = b.node('PRelu', [x, 'slope'], {}, { name: 'prelu' });
  b.init('zero', [], [0]);
  b.node('Max', [x, 'zero'], {}, { name: 'relu', outputs: ['y'] });
  b.output('y');
  const g = await checkAgainstNaive(b.write(join(DIR, 'upsample9.onnx')), 'x', [2, 2, 3, 2], 141);
  assert.deepEqual(kinds(g), ['Input', 'UpSampling', 'Activation', 'Activation']);
  assert.deepEqual(g.nodes[1].params, { rank: 2, size: [2, 3], interpolation: 'nearest' });
  assert.deepEqual((g.nodes[2].params as { activation: unknown }).activation, { name: 'leaky_relu', alpha: 0.25 });
  assert.equal(g.outputs[0].fileLayout, 'NCHW');
});

test('duplicate node names, two outputs, chained constant folds, one Permute for two consumers', async () => {
  const b = new OnnxBuilder(13);
  b.input('x', ['N', 2, 2, 3]);
  b.init('w1', [3, 4], rand(12, 151));
  b.init('w2', [3, 4], rand(12, 152));
  // Both MatMuls read x along its last ONNX axis: x must be in ONNX order (one Permute, shared).
  const m1 = b.node('MatMul', ['x', 'w1'], {}, { name: 'dup' });
  const m2 = b.node('MatMul', ['x', 'w2'], {}, { name: 'dup' });
  b.init('bias', [4], rand(4, 153));
  b.init('scale', [4], [2, -1, 0.5, 3]);
  const a1 = b.node('Add', [m1, 'bias'], {}, { name: 'add' });
  const s1 = b.node('Mul', [a1, 'scale'], {}, { name: 'mul', outputs: ['scaled'] });
  b.node('Add', [s1, m2], {}, { name: 'sum', outputs: ['sum'] });
  b.output('scaled', ['N', 2, 2, 4]);
  b.output('sum', ['N', 2, 2, 4]);
  const path = b.write(join(DIR, 'dup.onnx'));
  const g = await loadModel(path);
  assert.deepEqual(g.nodes.map((n) => n.name), ['x', 'dup/permute', 'dup', 'dup_1', 'sum']);
  assert.deepEqual(g.nodes[2].source.onnxNodes, ['dup', 'add', 'mul']);
  assert.deepEqual(g.outputs.map((o) => [o.fileName, o.node, o.fileLayout]), [['scaled', 'dup', 'NHWC'], ['sum', 'sum', 'NHWC']]);
  const shape = [2, 2, 2, 3];
  const x = Float32Array.from(rand(count(shape), 154));
  const ref = runNaive(readFileSync(path), { x: { shape, data: Array.from(x) } });
  const { predictAll } = await import('../execute.js');
  const ys = predictAll(g, { shape, data: x, dtype: 'f4' });
  for (const [i, name] of ['scaled', 'sum'].entries()) {
    assert.deepEqual(ys[i].shape, ref[name].shape);
    assert.ok(worstRel(toFloat32(ys[i]), ref[name].data, 2) <= 1e-5, name);
  }
});

test('Conv1d (NCW input, stride, dilation, SAME_UPPER) -> rank-1 Conv on NWC, flatten in C,W order', async () => {
  const b = new OnnxBuilder(13);
  b.input('seq', ['N', 3, 20]);
  b.init('w', [4, 3, 3], rand(36, 161, 0.5));
  b.init('bb', [4], rand(4, 162));
  let x = b.node('Conv', ['seq', 'w', 'bb'], { kernel_shape: [3], strides: [2], dilations: [2], pads: [2, 1] }, { name: 'c1' });
  b.init('w2', [2, 4, 3], rand(24, 163, 0.5));
  x = b.node('Conv', [x, 'w2'], { kernel_shape: [3], auto_pad: 'SAME_UPPER' }, { name: 'c2' });
  x = b.node('Flatten', [x], { axis: 1 }, { name: 'flat' });
  b.init('fc', [2, 20], rand(40, 164));
  b.node('Gemm', [x, 'fc'], { transB: 1 }, { name: 'fc', outputs: ['y'] });
  b.output('y', ['N', 2]);
  const g = await checkAgainstNaive(b.write(join(DIR, 'conv1d.onnx')), 'seq', [2, 3, 20], 165);
  assert.equal(g.inputs[0].fileLayout, 'NCW');
  assert.deepEqual(g.nodes[0].outputShape, [null, 20, 3]);
  assert.deepEqual(kinds(g), ['Input', 'Conv', 'Conv', 'Flatten', 'Dense']);
  assert.equal((g.nodes[1].params as { rank: number }).rank, 1);
  assert.deepEqual(g.nodes[1].weights.kernel.shape, [3, 3, 4]);
  assert.deepEqual((g.nodes[1].params as { padding: unknown }).padding, { mode: 'explicit', pads: [[2, 1]] });
});

test('IR v3 style: initializers also listed as graph inputs are weights, not inputs; integer inputs are refused', async () => {
  const b = tiny();
  b.input('w', [4, 2]);
  b.node('MatMul', ['x', 'w'], {}, { name: 'mm', outputs: ['y'] });
  b.output('y', ['N', 2]);
  const g = await onnxFormat.load(b.write(join(DIR, 'ir3.onnx')), {});
  assert.deepEqual(g.inputs.map((i) => i.fileName), ['x']);
  assert.deepEqual(kinds(g), ['Input', 'Dense']);
  const c = new OnnxBuilder(13);
  c.input('ids', ['N', 4], 7);
  c.init('w', [4, 2], rand(8, 171));
  c.node('MatMul', ['ids', 'w'], {}, { name: 'mm', outputs: ['y'] });
  c.output('y', ['N', 2]);
  const e = await refusal(c.write(join(DIR, 'int-input.onnx')));
  assert.equal(e.code, 'UNSUPPORTED_CONFIG');
  assert.match(e.message, /ids/);
});
