/**
 * The ONNX lowering against the tfjs engine (itself checked against Zennit) on small seeded graphs that
 * cover each lowered layer kind and every composite and rule: per sample max |R_ort - R_tfjs| <= 1e-4 *
 * max |R_tfjs| (reference.test.ts's tolerance), the same targets, outputs and per-layer sums. Also: ties
 * in max pooling go to the first maximum on a flat field, and what does not lower is refused with the
 * layer named.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BENCH } from '../../testing/paths.js';
import { readNpyFile as npy, worstRelPerSample } from '../../testing/arrays.js';
import { LensError } from '../errors.js';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { LayerNode, ModelGraph } from '../model/graph.js';
import type { NdArray } from '../array.js';
import { toFloat32 } from '../array.js';
import { COMPOSITE_NAMES } from '../names.js';
import { LrpExplainer, type ExplainerOptions, type ExplainOptions } from '../lrp/engine.js';
import { GraphBuilder, randomArray, rng } from '../lrp/test-graphs.js';
import { lowerToOnnx } from './lower.js';
import { OrtExplainer } from './ort-explainer.js';

before(async () => {
  await useBackend('wasm');
});

function input(shape: number[], seed: number, scale = 1): NdArray {
  return { shape, data: randomArray(shape.reduce((a, b) => a * b, 1), rng(seed), scale), dtype: 'f4' };
}

/** ORT vs tfjs: the worst per-sample relative difference, after checking targets, outputs and layer sums. */
async function agreement(graph: ModelGraph, options: ExplainerOptions, x: NdArray, eo: ExplainOptions = {}): Promise<number> {
  const ort = await OrtExplainer.create(graph, options);
  const tf = new LrpExplainer(graph, options);
  try {
    const a = await ort.explain(x, eo);
    const b = tf.explain(x, eo);
    assert.deepEqual(a.relevance.shape, b.relevance.shape);
    assert.deepEqual(a.targets.map((t) => t.index), b.targets.map((t) => t.index), 'targets');
    assert.ok(worstRelPerSample(a.output.data, b.output.data, x.shape[0]) < 1e-5, 'outputs');
    assert.deepEqual(a.layers.map((l) => [l.name, l.rule]), b.layers.map((l) => [l.name, l.rule]), 'layers');
    a.layers.forEach((l, i) => l.relevanceSum.forEach((v, s) => assert.ok(Math.abs(v - b.layers[i].relevanceSum[s]) <= 1e-3 * Math.max(1, Math.abs(v)), `sum at ${l.name}: ${v} vs ${b.layers[i].relevanceSum[s]}`)));
    return worstRelPerSample(a.relevance.data as Float32Array, b.relevance.data as Float32Array, x.shape[0]);
  } finally {
    tf.dispose();
    await ort.dispose();
  }
}

const RELU = { name: 'relu' as const };

/** Conv net: strided and dilated convs, depthwise and grouped convs, odd sizes, max and average pooling. */
function convNet(): ModelGraph {
  const b = new GraphBuilder(rng(3), [null, 13, 11, 2]);
  b.conv(6, 2, [3, 3], { activation: RELU });
  b.conv(6, 6, [3, 3], { strides: [2, 2], padding: 'valid', activation: RELU });
  b.depthwise(6, [3, 3], 2, { padding: 'same', activation: { name: 'tanh' } });
  b.conv(8, 12, [3, 3], { groups: 2, dilation: [2, 2], activation: RELU });
  b.pool('max', [2, 2], 'same');
  b.conv(4, 8, [1, 1], { activation: { name: 'leaky_relu' } });
  b.pool('avg', [2, 2], 'same');
  b.flatten();
  b.dense(5, 16, { activation: { name: 'tanh' } });
  b.dense(3, 5);
  return b.build('conv-net');
}

/** Residual and merge net: Add, Average, Subtract, Multiply, Concatenate, unmerged BatchNorm, global pools. */
function mergeNet(): ModelGraph {
  const b = new GraphBuilder(rng(5), [null, 9, 10, 3]);
  const stem = b.conv(4, 3, [3, 3], { activation: RELU });
  const c1 = b.conv(4, 4, [3, 3]);
  const add = b.merge('Add', [stem, c1]);
  b.at(add);
  b.activation('relu');
  const bn = b.batchNorm(4);
  b.at(stem);
  const c2 = b.conv(4, 4, [1, 1], { activation: { name: 'leaky_relu' } });
  const avg = b.merge('Average', [bn, c2]);
  b.at(stem);
  const c3 = b.conv(4, 4, [3, 3], { activation: { name: 'elu' } });
  const sub = b.merge('Subtract', [avg, c3]);
  const cat = b.concat([sub, stem]);
  b.at(cat);
  const gmax = b.globalPool('max', 2);
  b.at(cat);
  const gavg = b.globalPool('avg', 2);
  const prod = b.merge('Multiply', [gmax, gavg]);
  const both = b.concat([gmax, prod]);
  b.at(both);
  b.dense(3, 16);
  return b.build('merge-net');
}

/** A node the builder has no helper for, appended after `after`. */
function push(b: GraphBuilder, after: string, node: Pick<LayerNode, 'name' | 'kind' | 'params'>): string {
  b.nodes.push({ weights: {}, activation: { name: 'linear' }, inbound: [after], outputShape: [], source: { className: node.kind }, ...node } as LayerNode);
  b.at(node.name);
  return node.name;
}

/** Moves: ZeroPadding, Cropping, Permute and Reshape between convs. */
function moveNet(): ModelGraph {
  const b = new GraphBuilder(rng(6), [null, 8, 7, 2]);
  const c0 = b.conv(3, 2, [3, 3], { activation: RELU });
  const pad = push(b, c0, { name: 'pad', kind: 'ZeroPadding', params: { rank: 2, pads: [[1, 2], [0, 1]] } });
  push(b, pad, { name: 'crop', kind: 'Cropping', params: { rank: 2, crops: [[2, 0], [1, 1]] } });
  b.conv(4, 3, [3, 3], { padding: 'valid', activation: { name: 'tanh' } });
  const last = b.nodes[b.nodes.length - 1].name;
  const perm = push(b, last, { name: 'perm', kind: 'Permute', params: { dims: [2, 1, 3] } });
  push(b, perm, { name: 'reshape', kind: 'Reshape', params: { targetShape: [14, 8] } });
  b.flatten();
  b.dense(3, 112);
  return b.build('move-net');
}

/** Conv1D and Conv3D with a dense head. */
function otherRanks(): ModelGraph[] {
  const a = new GraphBuilder(rng(7), [null, 17, 3]);
  a.conv(5, 3, [4], { strides: [2], padding: 'same', activation: RELU });
  a.pool('max', [2]);
  a.flatten();
  a.dense(2, 20);
  const c = new GraphBuilder(rng(8), [null, 5, 6, 7, 2]);
  c.conv(3, 2, [3, 3, 3], { activation: RELU });
  c.globalPool('avg', 3);
  c.dense(2, 3);
  return [a.build('conv1d'), c.build('conv3d')];
}

test('every composite agrees with the tfjs engine on a conv net with strided, dilated, depthwise and grouped convs', async () => {
  const g = convNet();
  const x = input([5, 13, 11, 2], 11);
  const rows: string[] = [];
  for (const composite of COMPOSITE_NAMES) {
    const err = await agreement(g, { composite, low: -1, high: 1 }, x);
    rows.push(`${composite}: ${err.toExponential(2)}`);
    assert.ok(err <= 1e-4, `${composite}: ${err}`);
  }
  console.log(`conv net:\n  ${rows.join('\n  ')}`);
});

test('every composite agrees on a graph with Add, Average, Subtract, Multiply, Concatenate, BatchNorm and global pools', async () => {
  const g = mergeNet();
  const x = input([4, 9, 10, 3], 12);
  for (const composite of COMPOSITE_NAMES) {
    const err = await agreement(g, { composite, low: -1, high: 1 }, x);
    assert.ok(err <= 1e-4, `${composite}: ${err}`);
  }
});

test('ZeroPadding, Cropping, Permute and Reshape agree under every composite', async () => {
  const g = moveNet();
  const x = input([3, 8, 7, 2], 17);
  for (const composite of COMPOSITE_NAMES) {
    const err = await agreement(g, { composite, low: -1, high: 1 }, x);
    assert.ok(err <= 1e-4, `${composite}: ${err}`);
  }
});

test('rule maps (w-square, flat, epsilon-rms, lrp0, gamma-classic, alpha-beta, per-channel ZBox bounds) agree; so do 1-D and 3-D convs', async () => {
  const g = convNet();
  const x = input([3, 13, 11, 2], 13);
  const maps: ExplainerOptions[] = [
    { composite: 'epsilon', ruleMap: [{ kind: 'conv', rule: 'w-square' }] },
    { composite: 'epsilon', ruleMap: [{ first: true, rule: 'flat' }, { kind: 'dense', rule: 'epsilon-rms:0.1' }] },
    { composite: 'epsilon', ruleMap: [{ last: true, rule: 'lrp0' }] },
    { composite: 'epsilon', ruleMap: [{ kind: 'conv', rule: 'alpha-beta:3:2' }, { kind: 'dense', rule: 'zplus-nobias' }] },
    { composite: 'epsilon-gamma-box', low: [-1, -2], high: [1, 2] },
    { composite: 'epsilon-plus', maxPool: 'avg' },
  ];
  for (const o of maps) {
    const err = await agreement(g, o, x);
    assert.ok(err <= 1e-4, `${JSON.stringify(o)}: ${err}`);
  }
  const [c1, c3] = otherRanks();
  for (const o of [{ composite: 'epsilon-gamma-box', low: -1, high: 1 }, { composite: 'epsilon-alpha2-beta1-flat' }]) {
    assert.ok((await agreement(c1, o, input([3, 17, 3], 14))) <= 1e-4, `conv1d ${JSON.stringify(o)}`);
    assert.ok((await agreement(c3, o, input([2, 5, 6, 7, 2], 15))) <= 1e-4, `conv3d ${JSON.stringify(o)}`);
  }
  // ZBox and gamma on a depthwise first layer (its bias per output channel C * M).
  const dw = new GraphBuilder(rng(19), [null, 7, 6, 2]);
  dw.depthwise(2, [3, 3], 3, { padding: 'same', activation: RELU });
  dw.depthwise(6, [2, 2], 1, { strides: [2, 2], activation: RELU });
  dw.flatten();
  dw.dense(2, 54);
  const dwg = dw.build('depthwise-first');
  for (const o of [{ composite: 'epsilon-gamma-box', low: [-1, -2], high: [1, 2] }, { composite: 'epsilon-alpha2-beta1-flat' }]) {
    assert.ok((await agreement(dwg, o, input([3, 7, 6, 2], 20))) <= 1e-4, `depthwise ${JSON.stringify(o)}`);
  }
  // Classic gamma on sign-mixed inputs meets denominators near zero: on the conv net above and the conv3d
  // one, a one-ulp change of x moves the tfjs engine's own result by up to 8e-4, so it is checked where
  // that does not happen (the conv1d net).
  assert.ok((await agreement(c1, { composite: 'epsilon', ruleMap: [{ kind: 'conv', rule: 'gamma-classic:0.5' }] }, input([3, 17, 3], 14))) <= 1e-4, 'conv1d gamma-classic');
});

test('a Dense on every step or pixel (rank-3 and rank-4 inputs, lowered as a size-1 convolution) agrees with the tfjs engine under every composite', async () => {
  const seq = new GraphBuilder(rng(21), [null, 9, 3]);
  seq.conv(4, 3, [3], { padding: 'same', activation: RELU });
  seq.dense(5, 4, { activation: RELU });
  seq.flatten();
  seq.dense(2, 45);
  const img = new GraphBuilder(rng(22), [null, 6, 5, 2]);
  img.conv(3, 2, [3, 3], { padding: 'same', activation: RELU });
  img.dense(4, 3, { activation: RELU });
  img.globalPool('avg', 2);
  img.dense(2, 4);
  const cases: [ModelGraph, NdArray][] = [[seq.build('dense-per-step'), input([3, 9, 3], 23)], [img.build('dense-per-pixel'), input([3, 6, 5, 2], 24)]];
  for (const [g, x] of cases) {
    assert.equal(g.nodes.filter((n) => n.kind === 'Dense')[0].outputShape.length, x.shape.length, `${g.name}: the first Dense keeps the axes`);
    for (const composite of COMPOSITE_NAMES) {
      const err = await agreement(g, { composite, low: -1, high: 1 }, x);
      assert.ok(err <= 1e-4, `${g.name} ${composite}: ${err}`);
    }
    for (const rule of ['w-square', 'alpha-beta:2:1', 'gamma:0.25', 'epsilon-rms:0.1']) {
      const err = await agreement(g, { composite: 'epsilon', ruleMap: [{ kind: 'dense', rule }] }, x);
      assert.ok(err <= 1e-4, `${g.name} dense ${rule}: ${err}`);
    }
  }
});

test('targets (index, contrast, on a spatial output), the output init and chunked batches agree with the tfjs engine', async () => {
  const g = convNet();
  const x = input([7, 13, 11, 2], 16);
  for (const eo of [{ target: { type: 'index', index: 2 } }, { target: { type: 'contrast', a: 0, b: 1 } }, { init: 'output' }, { chunkSize: 3 }] as ExplainOptions[]) {
    const err = await agreement(g, { composite: 'epsilon-plus' }, x, eo);
    assert.ok(err <= 1e-4, `${JSON.stringify(eo)}: ${err}`);
  }
  assert.ok((await agreement(g, { composite: 'preset-a' }, x)) <= 1e-4, 'preset-a (output init by default)');
  // A spatial output [N, H, W, C]: targets index it flattened channels-last.
  const f = new GraphBuilder(rng(25), [null, 5, 4, 2]);
  f.conv(3, 2, [3, 3], { activation: RELU });
  f.conv(2, 3, [3, 3]);
  const fcn = f.build('fcn');
  for (const eo of [{ target: { type: 'index', index: 17 } }, { target: { type: 'predicted' } }] as ExplainOptions[]) {
    assert.ok((await agreement(fcn, { composite: 'epsilon-plus' }, input([3, 5, 4, 2], 26), eo)) <= 1e-4, `spatial output ${JSON.stringify(eo)}`);
  }
});

test('max pooling routes ties to the first maximum: a flat field (land-filled SST) on the benchmark model', async () => {
  const graph = await loadModel(join(BENCH, 'sst_cnn.onnx'));
  const batch = toFloat32(npy(join(BENCH, 'batch64_nhwc.npy')));
  const per = 89 * 180;
  const data = new Float32Array(4 * per);
  data.set(batch.subarray(0, 2 * per));
  data.fill(0.5, 2 * per, 3 * per);
  // Half ocean, half a flat land fill.
  for (let i = 0; i < per; i++) data[3 * per + i] = i % 180 < 90 ? batch[i] : 0;
  const err = await agreement(graph, { composite: 'epsilon-gamma-box', low: -5, high: 5 }, { shape: [4, 1, 89, 180], data, dtype: 'f4' }, { target: { type: 'index', index: 0 } });
  assert.ok(err <= 1e-4, `${err}`);
});

test('what does not lower is refused with the layer named (the caller runs the tfjs engine)', () => {
  const b = new GraphBuilder(rng(9), [null, 6, 6, 2]);
  b.conv(3, 2, [3, 3]);
  b.activation('gelu');
  b.flatten();
  b.dense(2, 108);
  const g = b.build('gelu');
  assert.throws(() => lowerToOnnx(g, { composite: 'epsilon' }), (e: unknown) => e instanceof LensError && e.code === 'LRP_UNSUPPORTED' && /gelu/.test(e.message) && e.layer !== undefined);
  // Overlapping max-pool windows: MaxUnpool would overwrite where the gradient adds.
  const o = new GraphBuilder(rng(10), [null, 8, 8, 1]);
  o.conv(2, 1, [3, 3], { activation: RELU });
  const pool = o.pool('max', [3, 3]);
  o.flatten();
  o.dense(2, 72);
  (o.nodes.find((n) => n.name === pool)!.params as { strides: number[] }).strides = [1, 1];
  const g2 = o.build('overlap');
  assert.throws(() => lowerToOnnx(g2, { composite: 'epsilon' }), (e: unknown) => e instanceof LensError && e.code === 'LRP_UNSUPPORTED' && e.layer === pool);
});
