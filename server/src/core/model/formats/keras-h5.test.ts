import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { BENCH, REAL, REF, scratchDir } from '../../../testing/paths.js';
import { kerasH5Format, loadKerasH5 } from './keras-h5.js';
import { assertSameGraph, assertTopological, expectLensError } from './keras-testkit.js';
import { kerasConfigToV3, readKerasH5Raw, writeKerasH5, writeKerasWeightsH5 } from '../writers/keras-h5-writer.js';
import type { LayerNodeOf } from '../graph.js';

const dir = scratchDir('keras-h5');

/** A weight read straight from the file with h5wasm, not through the loader. */
async function rawDataset(file: string, path: string): Promise<Float32Array> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    return Float32Array.from((f.get(path) as InstanceType<typeof h5wasm.Dataset>).value as Float32Array);
  } finally {
    f.close();
  }
}

test('detect: HDF5 signature only', () => {
  assert.equal(kerasH5Format.detect('x.h5', new Uint8Array(readFileSync(join(REF, 'mlp', 'model.h5')).subarray(0, 512))), true);
  assert.equal(kerasH5Format.detect('x.h5', new Uint8Array(readFileSync(join(REAL, 'tfjs-abalone', 'model.json')).subarray(0, 512))), false);
});

test('cnn_same Keras 2 Sequential: kinds, params, weights, activations', async () => {
  const file = join(REF, 'cnn_same', 'model.h5');
  const g = await loadKerasH5(file);
  assert.equal(g.format.name, 'keras-h5');
  assert.equal(g.format.version, '2.11.0');
  assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'Conv', 'Pool', 'Conv', 'Pool', 'Flatten', 'Dense', 'Dense']);
  assert.deepEqual(g.inputs, [{ node: 'input_1', fileName: 'input_1', fileShape: [null, 16, 32, 1], fileLayout: 'NHWC' }]);
  assert.deepEqual(g.outputs.map((o) => o.node), ['dense_1']);
  const conv = g.nodes[1] as LayerNodeOf<'Conv'>;
  assert.equal(conv.params.padding.mode, 'same');
  assert.deepEqual(conv.params.kernelSize, [5, 5]);
  assert.deepEqual(conv.params.strides, [1, 1]);
  assert.equal(conv.activation.name, 'relu');
  assert.deepEqual(conv.weights.kernel.shape, [5, 5, 1, 8]);
  assert.deepEqual(conv.inbound, ['input_1']);
  const pool = g.nodes[2] as LayerNodeOf<'Pool'>;
  assert.equal(pool.params.op, 'max');
  assert.deepEqual(pool.params.poolSize, [2, 2]);
  const last = g.nodes[7];
  assert.equal(last.activation.name, 'softmax');
  // Values read independently from the file.
  const k = await rawDataset(file, 'model_weights/conv2d/conv2d/kernel:0');
  assert.deepEqual(Array.from(conv.weights.kernel.data.slice(0, 5)), Array.from(k.slice(0, 5)));
  const b = await rawDataset(file, 'model_weights/dense_1/dense_1/bias:0');
  assert.deepEqual(Array.from(last.weights.bias.data), Array.from(b));
});

test('lrp-reference mlp and bench sst_cnn load', async () => {
  const mlp = await loadKerasH5(join(REF, 'mlp', 'model.h5'));
  assert.deepEqual(mlp.nodes.map((n) => n.kind), ['Input', 'Flatten', 'Dense', 'Dense', 'Dense']);
  const sst = await loadKerasH5(join(BENCH, 'sst_cnn.h5'));
  assert.deepEqual(sst.inputs[0].fileShape, [null, 89, 180, 1]);
  assert.deepEqual((sst.nodes.find((n) => n.name === 'dense') as LayerNodeOf<'Dense'>).weights.kernel.shape, [15488, 64]);
});

test('mlcommons-tiny ResNet (Keras 2.4 Functional, layers out of order): sorted, residual Adds', async () => {
  const g = await loadKerasH5(join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5'));
  assertTopological(g);
  const add1 = g.nodes.find((n) => n.name === 'add_1');
  assert.equal(add1?.kind, 'Add');
  assert.deepEqual(add1?.inbound, ['conv2d_5', 'batch_normalization_4']);
  const short = g.nodes.find((n) => n.name === 'conv2d_5') as LayerNodeOf<'Conv'>;
  assert.deepEqual(short.params.kernelSize, [1, 1]);
  assert.deepEqual(short.params.strides, [2, 2]);
  const bn = g.nodes.find((n) => n.name === 'batch_normalization') as LayerNodeOf<'BatchNorm'>;
  assert.equal(bn.params.epsilon, 0.001);
  assert.deepEqual(Object.keys(bn.weights).sort(), ['beta', 'gamma', 'movingMean', 'movingVariance']);
  const mv = await rawDataset(join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5'), 'model_weights/batch_normalization/batch_normalization/moving_variance:0');
  assert.deepEqual(Array.from(bn.weights.movingVariance.data), Array.from(mv));
  assert.equal(g.nodes.find((n) => n.name === 'dense')?.activation.name, 'softmax');
});

test('sevir models: every file loads with the classes the README lists', async () => {
  const unet = await loadKerasH5(join(REAL, 'sevir', 'sub-sevir-unet-class-2d.h5'));
  assertTopological(unet);
  const kinds = new Set(unet.nodes.map((n) => n.kind));
  for (const k of ['Conv', 'Activation', 'Pool', 'UpSampling', 'Concatenate'] as const) assert.ok(kinds.has(k), k);
  const elu = unet.nodes.find((n) => n.source.className === 'ELU') as LayerNodeOf<'Activation'>;
  assert.deepEqual(elu.params.activation, { name: 'elu', alpha: 1 });
  const cls = await loadKerasH5(join(REAL, 'sevir', 'sub-sevir-cnn-class-1d.h5'));
  const pool = cls.nodes.find((n) => n.kind === 'Pool') as LayerNodeOf<'Pool'>;
  assert.equal(pool.params.padding.mode, 'same');
  assert.equal(cls.nodes.find((n) => n.source.className === 'Dropout')?.kind, 'Identity');
  for (const f of ['MyFirstCNN.h5', 'MyFirstNN.h5', 'sub-sevir-ann-class-1d-eng.h5', 'sub-sevir-cnn-reg-1d.h5']) {
    const g = await loadKerasH5(join(REAL, 'sevir', f));
    assert.ok(g.nodes.length >= 4, f);
  }
});

test('space-weather Conv1D/Cropping1D/Concatenate and hail 3-D U-Net load', async () => {
  const sw = await loadKerasH5(join(REAL, 'space-weather-cnn', 'model_t_0.h5'));
  assert.deepEqual(sw.inputs[0].fileLayout, 'NWC');
  const crop = sw.nodes.find((n) => n.name === 'cropping1d_3') as LayerNodeOf<'Cropping'>;
  assert.deepEqual(crop.params.crops, [[334, 0]]);
  const cat = sw.nodes.find((n) => n.name === 'concatenate') as LayerNodeOf<'Concatenate'>;
  assert.equal(cat.params.axis, 2);
  assert.equal(cat.inbound.length, 5);
  const hail = await loadKerasH5(join(REAL, 'hail-3dunet', 'model.h5'));
  assertTopological(hail);
  const c3 = hail.nodes.find((n) => n.name === 'unet_down0_0') as LayerNodeOf<'Conv'>;
  assert.equal(c3.params.rank, 3);
  assert.equal(c3.params.useBias, false);
  assert.deepEqual(c3.weights.kernel.shape, [5, 5, 5, 19, 8]);
  assert.ok(hail.nodes.some((n) => n.kind === 'Pool' && (n as LayerNodeOf<'Pool'>).params.rank === 3));
  assert.ok(hail.nodes.some((n) => n.kind === 'UpSampling' && (n as LayerNodeOf<'UpSampling'>).params.rank === 3));
  assert.equal(hail.inputs[0].fileLayout, 'NDHWC');
});

test('ninolearn-broken: MISSING_WEIGHTS naming the layer', async () => {
  const e = await expectLensError(loadKerasH5(join(REAL, 'ninolearn-broken', 'member0.h5')), 'MISSING_WEIGHTS', 'dense_1');
  assert.match(e.message, /dense_1/);
});

test('Keras 3 .h5 (batch_shape, dtype policies, scoped weight paths without :0) equals the Keras 2 file', async () => {
  for (const [src, scope] of [[join(REF, 'cnn_same', 'model.h5'), 'sequential'], [join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5'), 'functional']] as const) {
    const raw = await readKerasH5Raw(src);
    const out = join(dir, `k3-${scope}.h5`);
    await writeKerasH5(out, kerasConfigToV3(raw.config), raw.weights, { style: 'keras3', scope, layerNames: raw.layerNames, kerasVersion: '3.3.3' });
    const g3 = await loadKerasH5(out);
    const g2 = await loadKerasH5(src);
    assert.equal(g3.format.version, '3.3.3');
    assertSameGraph(g3, g2);
    // The file really uses the Keras 3 layout.
    const k = await rawDataset(out, `model_weights/conv2d/${scope}/conv2d/kernel`);
    assert.equal(k.length, (g2.nodes.find((n) => n.name === 'conv2d')?.weights.kernel.data.length));
  }
});

test('weights-only .h5 -> NO_ARCHITECTURE; truncated copy -> TRUNCATED; not HDF5 -> CORRUPT', async () => {
  const raw = await readKerasH5Raw(join(REF, 'mlp', 'model.h5'));
  const w = join(dir, 'weights-only.h5');
  await writeKerasWeightsH5(w, raw.weights, { style: 'keras2', layout: 'legacy', layerNames: raw.layerNames });
  await expectLensError(loadKerasH5(w), 'NO_ARCHITECTURE');
  const bytes = readFileSync(join(REF, 'cnn_same', 'model.h5'));
  for (const n of [100, 4096, bytes.length - 1000]) {
    const t = join(dir, `trunc-${n}.h5`);
    writeFileSync(t, bytes.subarray(0, n));
    await expectLensError(loadKerasH5(t), 'TRUNCATED');
  }
  const junk = join(dir, 'junk.h5');
  copyFileSync(join(REAL, 'tfjs-abalone', 'model.json'), junk);
  await expectLensError(loadKerasH5(junk), 'CORRUPT');
});

/** The mlp file with its config edited (weights unchanged). */
async function mlpWith(name: string, edit: (cfg: { config: { layers: any[] } }) => void, weights?: (w: Awaited<ReturnType<typeof readKerasH5Raw>>['weights']) => void): Promise<string> {
  const raw = await readKerasH5Raw(join(REF, 'mlp', 'model.h5'));
  edit(raw.config as any);
  weights?.(raw.weights);
  const out = join(dir, `${name}.h5`);
  await writeKerasH5(out, raw.config, raw.weights, { style: 'keras2', layerNames: raw.layerNames });
  return out;
}

test('refusals: Lambda, QDense, MyLayer, ConvLSTM2D, unknown data_format (each with a hint)', async () => {
  const lambda = await mlpWith('lambda', (c) => {
    c.config.layers.splice(2, 0, { class_name: 'Lambda', config: { name: 'my_lambda', function: ['4wEAAAAAAAAA', null, null], function_type: 'lambda' } });
  });
  const e = await expectLensError(loadKerasH5(lambda), 'LAMBDA_LAYER', 'my_lambda');
  assert.match(e.message, /my_lambda/);
  assert.match(e.hint ?? '', /replace the Lambda layer/);
  const q = await mlpWith('qdense', (c) => {
    c.config.layers[2].class_name = 'QDense';
  });
  await expectLensError(loadKerasH5(q), 'CUSTOM_LAYER', 'dense');
  const my = await mlpWith('mylayer', (c) => {
    c.config.layers.splice(2, 0, { class_name: 'MyLayer', config: { name: 'mine' } });
  });
  await expectLensError(loadKerasH5(my), 'CUSTOM_LAYER', 'mine');
  // LSTM loads now (keras-recurrent.test.ts); ConvLSTM2D is still refused by name.
  const lstm = await mlpWith('convlstm', (c) => {
    c.config.layers.splice(2, 0, { class_name: 'ConvLSTM2D', config: { name: 'rnn', filters: 4 } });
  });
  const le = await expectLensError(loadKerasH5(lstm), 'UNSUPPORTED_LAYER', 'rnn');
  assert.match(le.message, /ConvLSTM2D/);
  assert.ok(le.hint);
  assert.equal(le.toJSON().hint, le.hint);
  // channels_first loads (keras-longtail.test.ts); a data_format Keras does not have is refused.
  const cf = await mlpWith('chmiddle', (c) => {
    c.config.layers[1].config.data_format = 'channels_middle';
  });
  const ce = await expectLensError(loadKerasH5(cf), 'UNSUPPORTED_CONFIG', 'flatten');
  assert.ok(ce.hint);
});

test('absurd shapes -> SHAPE_LIMIT; weights not matching the config -> WEIGHT_MISMATCH / MISSING_WEIGHTS', async () => {
  const huge = await mlpWith('huge-units', (c) => {
    c.config.layers[2].config.units = 1e12;
  });
  await expectLensError(loadKerasH5(huge), 'SHAPE_LIMIT', 'dense');
  const hugeIn = await mlpWith('huge-input', (c) => {
    c.config.layers[0].config.batch_input_shape = [null, 100000, 100000, 3];
  });
  await expectLensError(loadKerasH5(hugeIn), 'SHAPE_LIMIT');
  const mism = await mlpWith('mismatch', (c) => {
    c.config.layers[2].config.units = 31;
  });
  const me = await expectLensError(loadKerasH5(mism), 'WEIGHT_MISMATCH', 'dense');
  assert.match(me.message, /units 31/);
  const nobias = await mlpWith('nobias', () => undefined, (w) => {
    w.dense_1 = w.dense_1.filter((x) => x.name !== 'bias');
  });
  const mb = await expectLensError(loadKerasH5(nobias), 'MISSING_WEIGHTS', 'dense_1');
  assert.match(mb.message, /bias/);
});

test('functional graph errors: cycle -> GRAPH_CYCLE, unknown inbound or call -> GRAPH_INVALID; a shared layer loads', async () => {
  const raw = await readKerasH5Raw(join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5'));
  const layers = (raw.config.config as any).layers as any[];
  const write = async (name: string, edit: (ls: any[]) => void): Promise<string> => {
    const c = structuredClone(raw.config) as any;
    edit(c.config.layers);
    const out = join(dir, `${name}.h5`);
    await writeKerasH5(out, c, raw.weights, { style: 'keras2', layerNames: raw.layerNames });
    return out;
  };
  assert.ok(layers.length > 10);
  const cyc = await write('cycle', (ls) => {
    ls.find((l) => l.config.name === 'conv2d_1').inbound_nodes = [[['activation_2', 0, 0, {}]]];
  });
  await expectLensError(loadKerasH5(cyc), 'GRAPH_CYCLE');
  const dangling = await write('dangling', (ls) => {
    ls.find((l) => l.config.name === 'conv2d_1').inbound_nodes = [[['nowhere', 0, 0, {}]]];
  });
  await expectLensError(loadKerasH5(dangling), 'GRAPH_INVALID', 'conv2d_1');
  const shared = await write('shared', (ls) => {
    ls.find((l) => l.config.name === 'conv2d_1').inbound_nodes = [[['activation', 0, 0, {}]], [['activation_1', 0, 0, {}]]];
  });
  const sg = await loadKerasH5(shared);
  const calls = ['conv2d_1', 'conv2d_1_1'].map((name) => sg.nodes.find((n) => n.name === name) as (typeof sg.nodes)[number]);
  assert.deepEqual(calls.map((n) => n.source.className), ['Conv2D', 'Conv2D']);
  assert.deepEqual(calls.map((n) => n.inbound), [['activation'], ['activation_1']]);
  const missingCall = await write('missing-call', (ls) => {
    ls.find((l) => l.config.name === 'conv2d_1').inbound_nodes = [[['activation', 1, 0, {}]]];
  });
  await expectLensError(loadKerasH5(missingCall), 'GRAPH_INVALID', 'conv2d_1');
  // TF 2.x op layers carry odd call records; the class is what gets reported.
  const op = await write('tfoplambda', (ls) => {
    ls.splice(3, 0, { class_name: 'TFOpLambda', config: { name: 'tf.math.multiply', function: 'math.multiply' }, name: 'tf.math.multiply', inbound_nodes: [['activation', 0, 0, { y: 2.0, name: null }]] });
  });
  await expectLensError(loadKerasH5(op), 'UNSUPPORTED_LAYER', 'tf.math.multiply');
});
