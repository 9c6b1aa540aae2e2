/**
 * The long tail of real Keras exports: channels_first layers, shared layers, Normalization/Rescaling,
 * ReLU(threshold), float input shapes. Models are written with the project's HDF5/zip writers; every
 * expected value comes from plain float64 loops over the Keras formulas in this file (never from the
 * loader or the executor).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REAL, scratchDir } from '../../../testing/paths.js';
import { loadModel } from '../load.js';
import { predict } from '../execute.js';
import { canonicalize } from '../canonicalize.js';
import { explainGraph } from '../../lrp/engine.js';
import { expectLensError } from './keras-testkit.js';
import { kerasConfigToV3, writeKerasH5, type LayerWeights, type NamedWeight } from '../writers/keras-h5-writer.js';
import { writeKerasZip } from '../writers/keras-zip-writer.js';
import type { NdArray } from '../../array.js';
import { useBackend } from '../../backend.js';

const dir = scratchDir('keras-longtail');

before(async () => {
  await useBackend('wasm');
});

/** Deterministic values in [-1, 1) (a small LCG), so weights and inputs need no fixture files. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function w(name: string, shape: number[], seed: number, map: (v: number) => number = (v) => v): NamedWeight {
  return { name, shape, data: values(shape.reduce((a, b) => a * b, 1), seed).map(map) };
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-5 * Math.max(1, Math.abs(want[i]));
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

function input(shape: number[], seed: number): NdArray {
  return { shape, data: values(shape.reduce((a, b) => a * b, 1), seed), dtype: 'f4' };
}

const L = (className: string, config: Record<string, unknown>, inbound?: [string, number][][]): Record<string, unknown> => ({
  class_name: className,
  name: config.name,
  config,
  ...(inbound ? { inbound_nodes: inbound.map((call) => call.map(([n, k]) => [n, k, 0, {}])) } : {}),
});

async function h5(name: string, config: unknown, weights: LayerWeights): Promise<string> {
  const out = join(dir, `${name}.h5`);
  await writeKerasH5(out, config, weights, { style: 'keras2' });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// float64 references, channels-first where the layer is (Keras semantics)

/** Conv2D channels_first, valid, stride 1: x [C][H][W], kernel [kh][kw][cin][cout]. */
function conv2dCF(x: ArrayLike<number>, c: number, h: number, wd: number, k: NamedWeight, b: NamedWeight): { y: number[]; c: number; h: number; w: number } {
  const [kh, kw, , co] = k.shape;
  const ho = h - kh + 1;
  const wo = wd - kw + 1;
  const y = new Array<number>(co * ho * wo).fill(0);
  for (let o = 0; o < co; o++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        let s = b.data[o];
        for (let a = 0; a < kh; a++) for (let bb = 0; bb < kw; bb++) for (let ci = 0; ci < c; ci++) {
          s += x[ci * h * wd + (i + a) * wd + (j + bb)] * k.data[((a * kw + bb) * c + ci) * co + o];
        }
        y[o * ho * wo + i * wo + j] = s;
      }
    }
  }
  return { y, c: co, h: ho, w: wo };
}

test('channels_first Conv2D, BatchNormalization(axis=1), MaxPooling2D, Flatten, Dense: file layout in, no Permutes left', async () => {
  const [C, H, W] = [2, 6, 5];
  const k = w('kernel', [3, 3, C, 3], 1);
  const b = w('bias', [3], 2);
  const gamma = w('gamma', [3], 3, (v) => 1 + 0.5 * v);
  const beta = w('beta', [3], 4);
  const mean = w('moving_mean', [3], 5);
  const variance = w('moving_variance', [3], 6, (v) => 0.5 + Math.abs(v));
  // After conv: 3 x 4 x 3; pool 2x2 -> 3 x 2 x 1; flatten 6.
  const dk = w('kernel', [6, 4], 7);
  const db = w('bias', [4], 8);
  const cf = { data_format: 'channels_first' };
  const config = {
    class_name: 'Sequential',
    config: {
      name: 'cf',
      layers: [
        L('InputLayer', { name: 'x', batch_input_shape: [null, C, H, W] }),
        L('Conv2D', { name: 'conv', filters: 3, kernel_size: [3, 3], padding: 'valid', activation: 'linear', ...cf }),
        L('BatchNormalization', { name: 'bn', axis: 1, epsilon: 0.001 }),
        L('Activation', { name: 'act', activation: 'relu' }),
        L('MaxPooling2D', { name: 'pool', pool_size: [2, 2], ...cf }),
        L('Flatten', { name: 'flat', ...cf }),
        L('Dense', { name: 'fc', units: 4, activation: 'linear' }),
      ],
    },
  };
  const file = await h5('cf-conv', config, { conv: [k, b], bn: [gamma, beta, mean, variance], fc: [dk, db] });
  const g = await loadModel(file);
  assert.equal(g.inputs[0].fileLayout, 'NCHW');
  assert.deepEqual(g.inputs[0].fileShape, [null, C, H, W]);
  assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'Conv', 'BatchNorm', 'Activation', 'Pool', 'Flatten', 'Dense']);
  // The BatchNorm now sits right after the conv, channels-last: canonization merges it.
  assert.deepEqual(canonicalize(g).mergedBatchNorms, [{ batchNorm: 'bn', into: 'conv' }]);

  const x = input([2, C, H, W], 9);
  const y = predict(g, x);
  assert.deepEqual(y.shape, [2, 4]);
  const want: number[] = [];
  for (let s = 0; s < 2; s++) {
    const conv = conv2dCF(x.data.subarray(s * C * H * W, (s + 1) * C * H * W), C, H, W, k, b);
    const hw = conv.h * conv.w;
    const bn = conv.y.map((v, i) => {
      const ch = Math.floor(i / hw);
      return Math.max(0, gamma.data[ch] * (v - mean.data[ch]) / Math.sqrt(variance.data[ch] + 0.001) + beta.data[ch]);
    });
    const ph = Math.floor(conv.h / 2);
    const pw = Math.floor(conv.w / 2);
    const pooled: number[][][] = []; // [c][i][j]
    for (let ch = 0; ch < 3; ch++) {
      pooled.push([]);
      for (let i = 0; i < ph; i++) {
        pooled[ch].push([]);
        for (let j = 0; j < pw; j++) {
          let m = -Infinity;
          for (let a = 0; a < 2; a++) for (let bb = 0; bb < 2; bb++) m = Math.max(m, bn[ch * hw + (2 * i + a) * conv.w + 2 * j + bb]);
          pooled[ch][i].push(m);
        }
      }
    }
    // Keras Flatten(channels_first) moves channels last, then flattens: (i, j, c) order.
    const flat: number[] = [];
    for (let i = 0; i < ph; i++) for (let j = 0; j < pw; j++) for (let ch = 0; ch < 3; ch++) flat.push(pooled[ch][i][j]);
    for (let o = 0; o < 4; o++) {
      let t = db.data[o];
      for (let i = 0; i < 6; i++) t += flat[i] * dk.data[i * 4 + o];
      want.push(t);
    }
  }
  assertClose(y.data, want, 'cf model output');
});

test('channels_first Conv1D -> UpSampling1D -> ZeroPadding1D -> Cropping1D output stays NCW; GlobalAveragePooling2D(channels_first)', async () => {
  const [C, T] = [2, 5];
  const k = w('kernel', [2, C, 3], 11);
  const b = w('bias', [3], 12);
  const cf = { data_format: 'channels_first' };
  const seq = {
    class_name: 'Sequential',
    config: {
      name: 'cf1d',
      layers: [
        L('InputLayer', { name: 'x', batch_input_shape: [null, C, T] }),
        L('Conv1D', { name: 'conv', filters: 3, kernel_size: 2, padding: 'valid', ...cf }),
        L('UpSampling1D', { name: 'up', size: 2, ...cf }),
        L('ZeroPadding1D', { name: 'pad', padding: [1, 2], ...cf }),
        L('Cropping1D', { name: 'crop', cropping: [2, 0], ...cf }),
      ],
    },
  };
  const g = await loadModel(await h5('cf-1d', seq, { conv: [k, b] }));
  assert.equal(g.inputs[0].fileLayout, 'NCW');
  assert.equal(g.outputs[0].fileLayout, 'NCW');
  assert.equal(g.nodes.filter((n) => n.kind === 'Permute').length, 0);
  const x = input([1, C, T], 13);
  const y = predict(g, x);
  // conv: [3][4]; upsample x2: [3][8]; pad 1,2: [3][11]; crop 2,0: [3][9].
  const conv: number[][] = [];
  for (let o = 0; o < 3; o++) {
    conv.push([]);
    for (let t = 0; t < T - 1; t++) {
      let s = b.data[o];
      for (let a = 0; a < 2; a++) for (let ci = 0; ci < C; ci++) s += x.data[ci * T + t + a] * k.data[(a * C + ci) * 3 + o];
      conv[o].push(s);
    }
  }
  const want = conv.flatMap((row) => [0, ...row.flatMap((v) => [v, v]), 0, 0].slice(2));
  assert.deepEqual(y.shape, [1, 3, 9]);
  assertClose(y.data, want, 'NCW output');

  const [C2, H2, W2] = [3, 2, 2];
  const gap = {
    class_name: 'Sequential',
    config: {
      name: 'gap',
      layers: [
        L('InputLayer', { name: 'x', batch_input_shape: [null, C2, H2, W2] }),
        L('GlobalAveragePooling2D', { name: 'gap', ...cf }),
      ],
    },
  };
  const g2 = await loadModel(await h5('cf-gap', gap, {}));
  assert.equal(g2.inputs[0].fileLayout, 'NCHW');
  const x2 = input([1, C2, H2, W2], 14);
  const want2 = [0, 1, 2].map((ch) => (x2.data[ch * 4] + x2.data[ch * 4 + 1] + x2.data[ch * 4 + 2] + x2.data[ch * 4 + 3]) / 4);
  assertClose(predict(g2, x2).data, want2, 'channels_first global average');
});

test('channels_first .keras (Keras 3 zip) loads the same as the .h5; unknown data_format is refused with a hint', async () => {
  const k = w('kernel', [3, 3, 1, 2], 21);
  const b = w('bias', [2], 22);
  const k2 = {
    class_name: 'Functional',
    config: {
      name: 'cfz',
      layers: [
        L('InputLayer', { name: 'x', batch_input_shape: [null, 1, 5, 5] }, []),
        L('Conv2D', { name: 'conv', filters: 2, kernel_size: [3, 3], padding: 'valid', activation: 'relu', data_format: 'channels_first' }, [[['x', 0]]]),
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [['conv', 0, 0]],
    },
  };
  const out = join(dir, 'cf.keras');
  await writeKerasZip(out, kerasConfigToV3(k2 as never), { conv: [k, b] });
  const g = await loadModel(out);
  assert.equal(g.inputs[0].fileLayout, 'NCHW');
  assert.equal(g.outputs[0].fileLayout, 'NCHW');
  assert.equal(g.outputs[0].fileName, 'conv');
  const x = input([1, 1, 5, 5], 23);
  const y = predict(g, x);
  const want = conv2dCF(x.data, 1, 5, 5, k, b).y.map((v) => Math.max(0, v));
  assert.deepEqual(y.shape, [1, 2, 3, 3]);
  assertClose(y.data, want, 'channels_first .keras');

  const bad = structuredClone(k2);
  (bad.config.layers[1].config as Record<string, unknown>).data_format = 'channels_middle';
  const e = await expectLensError(loadModel(await h5('bad-df', bad, { conv: [k, b] })), 'UNSUPPORTED_CONFIG', 'conv');
  assert.match(e.hint ?? '', /channels_last/);
});

test('a shared layer becomes one node per call with the same weights; names avoid taken ones', async () => {
  const k = w('kernel', [4, 4], 31);
  const b = w('bias', [4], 32);
  const ok = w('kernel', [4, 2], 33);
  const ob = w('bias', [2], 34);
  const cfg = (addName: string): unknown => ({
    class_name: 'Functional',
    config: {
      name: 'shared',
      layers: [
        L('InputLayer', { name: 'x', batch_input_shape: [null, 4] }, []),
        L('Dense', { name: 'd', units: 4, activation: 'tanh' }, [[['x', 0]], [['d', 0]]]),
        L('Add', { name: addName }, [[['d', 0], ['d', 1]]]),
        L('Dense', { name: 'out', units: 2, activation: 'linear' }, [[[addName, 0]]]),
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [['out', 0, 0]],
    },
  });
  const x = input([3, 4], 35);
  const dense = (v: number[], kk: NamedWeight, bb: NamedWeight, n: number, act: (t: number) => number): number[] =>
    Array.from({ length: n }, (_, o) => act(v.reduce((s, vi, i) => s + vi * kk.data[i * n + o], bb.data[o])));
  const want: number[] = [];
  for (let s = 0; s < 3; s++) {
    const xs = Array.from(x.data.subarray(s * 4, s * 4 + 4));
    const d0 = dense(xs, k, b, 4, Math.tanh);
    const d1 = dense(d0, k, b, 4, Math.tanh);
    want.push(...dense(d0.map((v, i) => v + d1[i]), ok, ob, 2, (t) => t));
  }
  for (const [addName, second] of [['add', 'd_1'], ['d_1', 'd/call_1']]) {
    const g = await loadModel(await h5(`shared-${addName}`, cfg(addName), { d: [k, b], out: [ok, ob] }));
    const copy = g.nodes.find((n) => n.name === second);
    assert.ok(copy, `node ${second} in ${g.nodes.map((n) => n.name)}`);
    assert.equal(copy.source.className, 'Dense');
    assert.deepEqual(copy.inbound, ['d']);
    assert.deepEqual(Array.from(copy.weights.kernel.data), Array.from(k.data));
    assert.deepEqual(g.nodes.find((n) => n.name === addName)?.inbound, ['d', second]);
    assertClose(predict(g, x).data, want, `shared layer (${addName})`);
  }
  // Keras 3 keras_history [name, node_index, tensor_index] names the call the same way.
  const out = join(dir, 'shared.keras');
  await writeKerasZip(out, kerasConfigToV3(cfg('add') as never), { d: [k, b], out: [ok, ob] });
  const g3 = await loadModel(out);
  assert.deepEqual(g3.nodes.find((n) => n.name === 'add')?.inbound, ['d', 'd_1']);
  assertClose(predict(g3, x).data, want, 'shared layer (.keras)');
  // A call that does not exist is a broken graph.
  const broken = cfg('add') as { config: { layers: Record<string, unknown>[] } };
  broken.config.layers[2].inbound_nodes = [[['d', 0, 0, {}], ['d', 5, 0, {}]]];
  await expectLensError(loadModel(await h5('shared-bad', broken, { d: [k, b], out: [ok, ob] })), 'GRAPH_INVALID', 'add');
});

test('Normalization (axis -1, axis None, invert, config mean) and Rescaling become exact BatchNorms', async () => {
  const F = 5;
  const mean = w('mean', [F], 41, (v) => 10 * v);
  const variance = w('variance', [F], 42, (v) => 4 * Math.abs(v));
  variance.data[2] = 0; // sqrt(0) < epsilon: Keras divides by 1e-7
  const count: NamedWeight = { name: 'count', shape: [], data: new Float32Array([100]) };
  const dk = w('kernel', [F, 2], 43);
  const db = w('bias', [2], 44);
  const seq = (norm: Record<string, unknown>): unknown => ({
    class_name: 'Sequential',
    config: {
      name: 'norm',
      layers: [
        L('InputLayer', { name: 'x', batch_input_shape: [null, F] }),
        L('Normalization', { name: 'norm', ...norm }),
        L('Rescaling', { name: 'rescale', scale: 0.5, offset: -1 }),
        L('Dense', { name: 'fc', units: 2, activation: 'linear' }),
      ],
    },
  });
  const x = input([3, F], 45);
  const run = (norm: (v: number, i: number) => number): number[] => {
    const want: number[] = [];
    for (let s = 0; s < 3; s++) {
      const z = Array.from(x.data.subarray(s * F, (s + 1) * F)).map((v, i) => norm(v, i) * 0.5 - 1);
      for (let o = 0; o < 2; o++) want.push(z.reduce((t, v, i) => t + v * dk.data[i * 2 + o], db.data[o]));
    }
    return want;
  };
  const sd = (i: number): number => Math.max(Math.sqrt(variance.data[i]), 1e-7);

  const g = await loadModel(await h5('norm', seq({ axis: -1 }), { norm: [mean, variance, count], fc: [dk, db] }));
  assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'BatchNorm', 'BatchNorm', 'Dense']);
  assert.equal(g.nodes[1].source.className, 'Normalization');
  // The zero-variance feature is scaled by 1e7: compare the others to float32 tolerance, that one relative.
  assertClose(predict(g, x).data, run((v, i) => (v - mean.data[i]) / sd(i)), 'Normalization axis -1');

  const gi = await loadModel(await h5('norm-invert', seq({ axis: -1, invert: true }), { norm: [mean, variance, count], fc: [dk, db] }));
  assertClose(predict(gi, x).data, run((v, i) => mean.data[i] + v * sd(i)), 'Normalization invert');

  const m0: NamedWeight = { name: 'mean', shape: [], data: new Float32Array([0.25]) };
  const v0: NamedWeight = { name: 'variance', shape: [], data: new Float32Array([2.5]) };
  const gn = await loadModel(await h5('norm-none', seq({ axis: null }), { norm: [m0, v0, count], fc: [dk, db] }));
  assertClose(predict(gn, x).data, run((v) => (v - 0.25) / Math.sqrt(2.5)), 'Normalization axis None');

  const cm = [1, 2, 3, 4, 5];
  const cv = [1, 4, 9, 16, 0.25];
  const gc = await loadModel(await h5('norm-config', seq({ axis: -1, mean: cm, variance: cv }), { fc: [dk, db] }));
  assertClose(predict(gc, x).data, run((v, i) => (v - cm[i]) / Math.sqrt(cv[i])), 'Normalization with config statistics');

  // Several axes have no BatchNorm form: refused by name, with a hint.
  const e = await expectLensError(loadModel(await h5('norm-axes', seq({ axis: [1, 2] }), { fc: [dk, db] })), 'UNSUPPORTED_CONFIG', 'norm');
  assert.ok(e.hint);
});

test('Rescaling and Normalization over the channels of an image before a Conv', async () => {
  const [H, W, C] = [4, 4, 2];
  const mean = w('mean', [C], 51);
  const variance = w('variance', [C], 52, (v) => 0.1 + Math.abs(v));
  const k = w('kernel', [3, 3, C, 2], 53);
  const b = w('bias', [2], 54);
  const cfg = {
    class_name: 'Sequential',
    config: {
      name: 'img',
      layers: [
        L('InputLayer', { name: 'x', batch_input_shape: [null, H, W, C] }),
        L('Rescaling', { name: 'rescale', scale: 1 / 255, offset: 0 }),
        L('Normalization', { name: 'norm', axis: -1 }),
        L('Conv2D', { name: 'conv', filters: 2, kernel_size: [3, 3], padding: 'valid', activation: 'linear' }),
      ],
    },
  };
  const g = await loadModel(await h5('img-norm', cfg, { norm: [mean, variance], conv: [k, b] }));
  const x: NdArray = { shape: [1, H, W, C], data: values(H * W * C, 55).map((v) => 128 + 127 * v), dtype: 'f4' };
  const want: number[] = [];
  const z = Array.from(x.data).map((v, i) => (v / 255 - mean.data[i % C]) / Math.max(Math.sqrt(variance.data[i % C]), 1e-7));
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let o = 0; o < 2; o++) {
    let s = b.data[o];
    for (let a = 0; a < 3; a++) for (let bb = 0; bb < 3; bb++) for (let ci = 0; ci < C; ci++) s += z[((i + a) * W + j + bb) * C + ci] * k.data[((a * 3 + bb) * C + ci) * 2 + o];
    want.push(s);
  }
  assertClose(predict(g, x).data, want, 'Rescaling + Normalization + Conv');
});

test('ReLU(threshold, negative_slope, max_value) and ThresholdedReLU follow Keras backend.relu', async () => {
  const cfg = (layer: Record<string, unknown>): unknown => ({
    class_name: 'Sequential',
    config: { name: 'r', layers: [L('InputLayer', { name: 'x', batch_input_shape: [null, 8] }), layer] },
  });
  const x: NdArray = { shape: [1, 8], data: new Float32Array([-3, -0.5, 0, 0.25, 0.5, 0.75, 1.5, 4]), dtype: 'f4' };
  const cases: [Record<string, unknown>, (v: number) => number][] = [
    [{ threshold: 0.5 }, (v) => (v > 0.5 ? v : 0)],
    [{ threshold: 0.5, negative_slope: 0.1 }, (v) => (v > 0.5 ? v : 0.1 * (v - 0.5))],
    [{ threshold: 0.5, negative_slope: 0.1, max_value: 2 }, (v) => (v > 0.5 ? Math.min(v, 2) : 0.1 * (v - 0.5))],
    [{ negative_slope: 0.2, max_value: 1 }, (v) => (v > 0 ? Math.min(v, 1) : 0.2 * v)],
  ];
  for (const [c, f] of cases) {
    const g = await loadModel(await h5(`relu-${Object.values(c).join('-')}`, cfg(L('ReLU', { name: 'r', ...c })), {}));
    assertClose(predict(g, x).data, Array.from(x.data).map(f), `ReLU ${JSON.stringify(c)}`);
  }
  const g = await loadModel(await h5('thresholded', cfg(L('ThresholdedReLU', { name: 't', theta: 0.5 })), {}));
  assertClose(predict(g, x).data, Array.from(x.data).map((v) => (v > 0.5 ? v : 0)), 'ThresholdedReLU');
});

test('input shapes written as floats (28.0) load; a non-integral one is refused by name', async () => {
  const k = w('kernel', [3, 2], 61);
  const b = w('bias', [2], 62);
  const weights = join(dir, 'floats_weights.h5');
  const cfg = {
    class_name: 'Sequential',
    config: { name: 'f', layers: [L('InputLayer', { name: 'x', batch_input_shape: [null, 3] }), L('Dense', { name: 'fc', units: 2 })] },
  };
  await writeKerasH5(weights, cfg, { fc: [k, b] }, { style: 'keras2' });
  const text = JSON.stringify(cfg).replace('"batch_input_shape":[null,3]', '"batch_input_shape": [null, 3.0]');
  assert.match(text, /3\.0/);
  const json = join(dir, 'floats.json');
  writeFileSync(json, text);
  const g = await loadModel(json, { weightsPath: weights });
  assert.deepEqual(g.inputs[0].fileShape, [null, 3]);
  const json2 = join(dir, 'floats-bad.json');
  writeFileSync(json2, text.replace('3.0', '3.5'));
  const e = await expectLensError(loadModel(json2, { weightsPath: weights }), 'UNSUPPORTED_CONFIG', 'x');
  assert.match(e.message, /3\.5/);
});

test('the SavedModel target-temp head: __tuple__ shapes and axis, Normalization -> Dense -> Rescaling merged by canonization', async () => {
  const F = 12;
  const tuple = (items: unknown[]): unknown => ({ class_name: '__tuple__', items });
  const mean = w('mean', [F], 71, (v) => 280 + 10 * v);
  const variance = w('variance', [F], 72, (v) => 25 + 20 * v);
  const count: NamedWeight = { name: 'count', shape: [], data: new Float32Array([4000]) };
  const k1 = w('kernel', [F, 4], 73);
  const b1 = w('bias', [4], 74);
  const k2 = w('kernel', [4, 1], 75);
  const b2 = w('bias', [1], 76);
  const cfg = {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: [
        L('InputLayer', { name: 'input_1', batch_input_shape: tuple([null, F]) }, []),
        L('Normalization', { name: 'normalization', batch_input_shape: tuple([null, null]), axis: tuple([-1]), mean: null, variance: null }, [[['input_1', 0]]]),
        L('Dropout', { name: 'dropout', rate: 0 }, [[['normalization', 0]]]),
        L('Dense', { name: 'dense', units: 4, activation: 'relu' }, [[['dropout', 0]]]),
        L('Dense', { name: 'mu_z_unit', units: 1, activation: 'linear' }, [[['dense', 0]]]),
        L('Rescaling', { name: 'mu_unit', scale: 38.89908596469702, offset: -8.833333333333334 }, [[['mu_z_unit', 0]]]),
      ],
      input_layers: [['input_1', 0, 0]],
      output_layers: [['mu_unit', 0, 0]],
    },
  };
  const g = await loadModel(await h5('target-temp-head', cfg, { normalization: [mean, variance, count], dense: [k1, b1], mu_z_unit: [k2, b2] }));
  assert.deepEqual(g.inputs[0].fileShape, [null, F]);
  const x: NdArray = { shape: [2, F], data: values(2 * F, 77).map((v) => 280 + 15 * v), dtype: 'f4' };
  const want: number[] = [];
  for (let s = 0; s < 2; s++) {
    const z = Array.from(x.data.subarray(s * F, (s + 1) * F)).map((v, i) => (v - mean.data[i]) / Math.max(Math.sqrt(variance.data[i]), 1e-7));
    const h = Array.from({ length: 4 }, (_, o) => Math.max(0, z.reduce((t, v, i) => t + v * k1.data[i * 4 + o], b1.data[o])));
    want.push(h.reduce((t, v, i) => t + v * k2.data[i], b2.data[0]) * 38.89908596469702 - 8.833333333333334);
  }
  assertClose(predict(g, x).data, want, 'target-temp head');
  const c = canonicalize(g);
  assert.deepEqual(c.mergedBatchNorms, [{ batchNorm: 'mu_unit', into: 'mu_z_unit' }]);
  assertClose(predict(c.graph, x).data, want, 'target-temp head, canonical');
});

test('channels_first residual block: Permutes move past Add and Concatenate(axis=1) and cancel', async () => {
  const [C, H, W] = [2, 4, 3];
  const ka = w('kernel', [1, 1, C, 2], 81);
  const ba = w('bias', [2], 82);
  const kb = w('kernel', [1, 1, C, 2], 83);
  const bb = w('bias', [2], 84);
  const cf = { data_format: 'channels_first' };
  const cfg = {
    class_name: 'Functional',
    config: {
      name: 'res',
      layers: [
        L('InputLayer', { name: 'x', batch_input_shape: [null, C, H, W] }, []),
        L('Conv2D', { name: 'a', filters: 2, kernel_size: [1, 1], activation: 'relu', ...cf }, [[['x', 0]]]),
        L('Conv2D', { name: 'b', filters: 2, kernel_size: [1, 1], activation: 'linear', ...cf }, [[['x', 0]]]),
        L('Add', { name: 'add' }, [[['a', 0], ['b', 0]]]),
        L('Activation', { name: 'act', activation: 'tanh' }, [[['add', 0]]]),
        L('Concatenate', { name: 'cat', axis: 1 }, [[['act', 0], ['x', 0]]]),
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [['cat', 0, 0]],
    },
  };
  const g = await loadModel(await h5('cf-res', cfg, { a: [ka, ba], b: [kb, bb] }));
  assert.equal(g.inputs[0].fileLayout, 'NCHW');
  assert.equal(g.outputs[0].fileLayout, 'NCHW');
  assert.equal(g.nodes.filter((n) => n.kind === 'Permute').length, 0, g.nodes.map((n) => `${n.name}:${n.kind}`).join(' '));
  const x = input([1, C, H, W], 85);
  const y = predict(g, x);
  assert.deepEqual(y.shape, [1, 4, H, W]);
  const hw = H * W;
  const conv1 = (k: NamedWeight, bias: NamedWeight, o: number, p: number): number => bias.data[o] + x.data[p] * k.data[o] + x.data[hw + p] * k.data[2 + o];
  const want: number[] = [];
  for (let o = 0; o < 2; o++) for (let p = 0; p < hw; p++) want.push(Math.tanh(Math.max(0, conv1(ka, ba, o, p)) + conv1(kb, bb, o, p)));
  want.push(...Array.from(x.data));
  assertClose(y.data, want, 'channels_first residual block');
});

test('real SavedModel target-temp: Normalization (10368 features) and Rescaling load as BatchNorms; LRP explains mu', async () => {
  const dirPath = join(REAL, 'savedmodel-target-temp', 'test_ssp370_1.5_gcmsubALL_shash2_rng8889_seed1257_model');
  const g = await loadModel(dirPath);
  const norm = g.nodes.find((n) => n.name === 'normalization');
  assert.equal(norm?.kind, 'BatchNorm');
  assert.equal(norm?.source.className, 'Normalization');
  assert.deepEqual(norm?.weights.gamma.shape, [10368]);
  assert.ok(Array.from(norm?.weights.movingVariance.data ?? []).every((v) => v === 1));
  assert.ok(Array.from(norm?.weights.gamma.data ?? []).every((v) => v > 0 && Number.isFinite(v)));
  const mu = g.nodes.find((n) => n.name === 'mu_unit');
  assert.equal(mu?.source.className, 'Rescaling');
  // Rescaling(scale, offset) as stored in the file's config.
  assert.ok(Math.abs((mu?.weights.gamma.data[0] ?? 0) - 38.89908596469702) < 1e-4);
  assert.ok(Math.abs((mu?.weights.beta.data[0] ?? 0) + 8.833333333333334) < 1e-5);
  assert.deepEqual(canonicalize(g).mergedBatchNorms, [{ batchNorm: 'mu_unit', into: 'mu_z_unit' }]);
  const x: NdArray = { shape: [1, 10368], data: values(10368, 91), dtype: 'f4' };
  const e = explainGraph(g, x, {});
  assert.deepEqual(e.relevance.shape, [1, 10368]);
  assert.ok(Number.isFinite(e.relevanceSum[0]));
});

test('Rescaling after a Conv gets the Conv\'s channel count; BatchNormalization(axis=3) on NHWC stays as it is (no Permutes)', async () => {
  const [H, W, C, F] = [3, 3, 2, 3];
  const k = w('kernel', [1, 1, C, F], 61);
  const gamma = w('gamma', [F], 62, (v) => 1 + 0.5 * v);
  const beta = w('beta', [F], 63);
  const mm = w('moving_mean', [F], 64);
  const mv = w('moving_variance', [F], 65, (v) => 0.5 + Math.abs(v));
  const cfg = {
    class_name: 'Sequential',
    config: {
      name: 'bn3',
      layers: [
        L('InputLayer', { name: 'x', batch_input_shape: [null, H, W, C] }),
        L('Conv2D', { name: 'conv', filters: F, kernel_size: [1, 1], padding: 'valid', activation: 'linear', use_bias: false }),
        L('Rescaling', { name: 'rescale', scale: 2, offset: -1 }),
        L('BatchNormalization', { name: 'bn', axis: 3, epsilon: 0.001 }),
      ],
    },
  };
  const g = await loadModel(await h5('bn-axis3', cfg, { conv: [k], bn: [gamma, beta, mm, mv] }));
  assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'Conv', 'BatchNorm', 'BatchNorm']);
  const rescale = g.nodes.find((n) => n.name === 'rescale')!;
  assert.deepEqual(rescale.weights.gamma.shape, [F], 'the scale is broadcast to the Conv\'s filters');
  const x = input([1, H, W, C], 66);
  const want: number[] = [];
  for (let p = 0; p < H * W; p++) for (let o = 0; o < F; o++) {
    let s = 0;
    for (let ci = 0; ci < C; ci++) s += x.data[p * C + ci] * k.data[ci * F + o];
    const r = 2 * s - 1;
    want.push(gamma.data[o] * (r - mm.data[o]) / Math.sqrt(mv.data[o] + 0.001) + beta.data[o]);
  }
  assertClose(predict(g, x).data, want, 'Conv + Rescaling + BatchNormalization(axis=3)');
});
