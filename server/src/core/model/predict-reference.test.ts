/**
 * Acceptance (issue 2): every reference model's three files reproduce the reference logits; the three
 * sst_cnn bench files agree with each other and with bench/logits.npy; every real model loads and runs
 * or is refused as shared/real-models/README.md says.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf, useBackend } from '../backend.js';
import { toFloat32, type NdArray } from '../array.js';
import { BENCH, REAL, REF } from '../../testing/paths.js';
import { loadModel } from './load.js';
import { predict } from './execute.js';
import type { ModelGraph } from './graph.js';
import { LensError } from '../errors.js';
import { readNpyFile as npy, worstRelPerSample } from '../../testing/arrays.js';

before(async () => {
  await useBackend('wasm');
});


/** Row-wise softmax over the last axis (float64). */
function softmaxRows(a: NdArray): Float64Array {
  const c = a.shape[a.shape.length - 1];
  const v = toFloat32(a);
  const out = new Float64Array(v.length);
  for (let r = 0; r < v.length / c; r++) {
    const row = Array.from(v.subarray(r * c, (r + 1) * c));
    const m = Math.max(...row);
    const e = row.map((x) => Math.exp(x - m));
    const s = e.reduce((x, y) => x + y, 0);
    e.forEach((x, i) => (out[r * c + i] = x / s));
  }
  return out;
}

/** NHWC -> NCHW for a float32 rank-4 array. */
function toNchw(a: NdArray): NdArray {
  const [n, h, w, c] = a.shape;
  const v = toFloat32(a);
  const out = new Float32Array(v.length);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out[((i * c + k) * h + y) * w + x] = v[((i * h + y) * w + x) * c + k];
  }
  return { shape: [n, c, h, w], data: out, dtype: 'f4' };
}

interface RefIndex {
  models: Record<string, { files: string[] }>;
}
const index = JSON.parse(readFileSync(join(REF, 'index.json'), 'utf8')) as RefIndex;
/** lrp-reference/README.md: cnn_same's Keras and TF.js files end in Dense(softmax); the ONNX file and the MLP do not. */
const ENDS_IN_SOFTMAX: Record<string, string[]> = { cnn_same: ['model.h5', 'tfjs/model.json'] };

for (const [model, info] of Object.entries(index.models)) {
  const modelFiles = info.files.filter((f) => f.endsWith('.onnx') || f.endsWith('.h5') || f.endsWith('model.json'));
  test(`lrp-reference/${model}: has three model files`, () => assert.equal(modelFiles.length, 3));
  for (const file of modelFiles) {
    test(`lrp-reference/${model}/${file} reproduces logits.npy`, async () => {
      const dir = join(REF, model);
      const g = await loadModel(join(dir, file));
      const x = npy(join(dir, file.endsWith('.onnx') ? 'x_nchw.npy' : 'x_nhwc.npy'));
      const logits = npy(join(dir, 'logits.npy'));
      const want = ENDS_IN_SOFTMAX[model]?.includes(file) ? softmaxRows(logits) : toFloat32(logits);
      const y = predict(g, x);
      assert.deepEqual(y.shape, logits.shape);
      const err = worstRelPerSample(toFloat32(y), want, logits.shape[0]);
      console.log(`# ${model}/${file}: max error / max|output| per sample = ${err.toExponential(2)}`);
      assert.ok(err <= 1e-4, `error ${err}`);
    });
  }
}

test('bench/sst_cnn: the Keras, TF.js and ONNX files agree and match bench/logits.npy', async () => {
  const x = npy(join(BENCH, 'batch64_nhwc.npy'));
  const logits = npy(join(BENCH, 'logits.npy'));
  const want = toFloat32(logits);
  const outs: Record<string, NdArray> = {};
  for (const file of ['sst_cnn.h5', 'sst_cnn_tfjs/model.json', 'sst_cnn.onnx']) {
    const g = await loadModel(join(BENCH, file));
    const y = predict(g, file.endsWith('.onnx') ? toNchw(x) : x);
    assert.deepEqual(y.shape, logits.shape, file);
    const err = worstRelPerSample(toFloat32(y), want, x.shape[0]);
    console.log(`# sst_cnn ${file}: max error / max|logit| per sample = ${err.toExponential(2)}`);
    assert.ok(err <= 1e-4, `${file}: error ${err}`);
    outs[file] = y;
  }
  const a = toFloat32(outs['sst_cnn.h5']);
  for (const f of ['sst_cnn_tfjs/model.json', 'sst_cnn.onnx']) {
    assert.ok(worstRelPerSample(toFloat32(outs[f]), a, x.shape[0]) <= 1e-4, `${f} differs from the .h5 file`);
  }
});

/** A deterministic input for a graph's first input, in the file's layout (symbolic dims -> `fill`). */
function randomInput(g: ModelGraph, fill = 32, batch = 2): NdArray {
  const shape = g.inputs[0].fileShape.map((d, i) => (i === 0 ? batch : d ?? fill));
  const n = shape.reduce((a, b) => a * b, 1);
  let s = 12345;
  const data = Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff - 0.5;
  });
  return { shape, data, dtype: 'f4' };
}

async function loadError(path: string): Promise<LensError> {
  try {
    await loadModel(path);
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${String(e)}`);
    return e;
  }
  assert.fail(`${path} loaded, but should be refused`);
}

/** Real models the README says to load, run (and explain). */
const RUNS = [
  'sevir/MyFirstCNN.h5', 'sevir/MyFirstNN.h5', 'sevir/sub-sevir-ann-class-1d-eng.h5', 'sevir/sub-sevir-cnn-class-1d.h5',
  'sevir/sub-sevir-cnn-reg-1d.h5', 'sevir/sub-sevir-unet-class-2d.h5', 'mlcommons-tiny/pretrainedResnet.h5',
  'tfjs-abalone/model.json', 'space-weather-cnn/model_t_0.h5', 'deepeverest-mnist/mnist.onnx',
];

for (const rel of RUNS) {
  test(`real-models/${rel} loads and runs`, async () => {
    const t0 = Date.now();
    const g = await loadModel(join(REAL, rel));
    const ms = Date.now() - t0;
    const x = randomInput(g);
    const y = predict(g, x);
    console.log(`# ${rel}: loaded in ${ms} ms, ${g.nodes.length} nodes, output ${JSON.stringify(y.shape)}`);
    assert.equal(y.shape[0], 2);
    assert.ok(Array.from(y.data).every(Number.isFinite), 'finite outputs');
  });
}

test('real-models/mlcommons-tiny: softmax outputs (ends in Dense softmax) sum to 1', async () => {
  const g = await loadModel(join(REAL, 'mlcommons-tiny/pretrainedResnet.h5'));
  const y = predict(g, randomInput(g));
  const c = y.shape[1];
  for (let s = 0; s < 2; s++) {
    const sum = Array.from(y.data.subarray(s * c, (s + 1) * c)).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5);
  }
  // The config lists layers out of order; the residual Adds must still see both branches.
  assert.ok(g.nodes.filter((n) => n.kind === 'Add').every((n) => n.inbound.length === 2));
});

test('real-models/deepeverest-mnist: LogSoftmax outputs exponentiate to a distribution', async () => {
  const g = await loadModel(join(REAL, 'deepeverest-mnist/mnist.onnx'));
  const y = predict(g, randomInput(g));
  const c = y.shape[1];
  for (let s = 0; s < 2; s++) {
    const sum = Array.from(y.data.subarray(s * c, (s + 1) * c)).reduce((a, b) => a + Math.exp(b), 0);
    assert.ok(Math.abs(sum - 1) < 1e-4);
  }
});

test('real-models/tfjs-graphmodel is read as a graph model and refused at its embedding lookup (GatherV2)', async () => {
  const e = await loadError(join(REAL, 'tfjs-graphmodel/model.json'));
  assert.equal(e.code, 'UNSUPPORTED_OP');
  assert.equal(e.layer, 'StatefulPartitionedCall/model/embedding/embedding_lookup');
});

test('real-models/ninolearn-broken is refused, naming the missing weights', async () => {
  const e = await loadError(join(REAL, 'ninolearn-broken/member0.h5'));
  assert.equal(e.code, 'MISSING_WEIGHTS');
  assert.ok(e.layer, 'names the layer');
});

test('real-models/hail-3dunet: loads and runs, or refuses per layer', async () => {
  const t0 = Date.now();
  let g: ModelGraph;
  try {
    g = await loadModel(join(REAL, 'hail-3dunet/model.h5'));
  } catch (e) {
    assert.ok(e instanceof LensError);
    assert.ok(e.layer, `a refusal names the layer: ${e.message}`);
    return;
  }
  const ms = Date.now() - t0;
  // One sample: the 3-D U-Net is a few GFLOP per sample.
  const y = predict(g, randomInput(g, 16, 1));
  console.log(`# hail-3dunet: loaded in ${ms} ms, ${g.nodes.length} nodes, output ${JSON.stringify(y.shape)}`);
  assert.ok(Array.from(y.data).every(Number.isFinite));
});

test('predict leaves no tensors behind on real models (ResNet with Add, U-Net with Concatenate/UpSampling)', async () => {
  for (const rel of ['mlcommons-tiny/pretrainedResnet.h5', 'sevir/sub-sevir-unet-class-2d.h5', 'deepeverest-mnist/mnist.onnx']) {
    const g = await loadModel(join(REAL, rel));
    const x = randomInput(g, 32, 3);
    const start = tf.memory().numTensors;
    predict(g, x, { batchSize: 2 });
    assert.equal(tf.memory().numTensors, start, rel);
  }
});
