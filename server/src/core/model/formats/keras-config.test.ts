import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { scratchDir } from '../../../testing/paths.js';
import { loadKerasH5 } from './keras-h5.js';
import { loadKerasV3 } from './keras-v3.js';
import { ZipArchive } from './zip.js';
import { assertSameGraph, assertTopological, expectLensError } from './keras-testkit.js';
import { kerasConfigToV3, writeKerasH5, type LayerWeights } from '../writers/keras-h5-writer.js';
import { writeKerasZip } from '../writers/keras-zip-writer.js';
import type { LayerNodeOf } from '../graph.js';

const dir = scratchDir('keras-config');

let seed = 12345;
function rand(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out[i] = seed / 2147483648 - 0.5;
  }
  return out;
}
const w = (name: string, shape: number[]) => ({ name, shape, data: rand(shape.reduce((a, b) => a * b, 1)) });

/** A Keras 2 Functional layer entry. */
const L = (cls: string, config: object, inputs: string[]) => ({
  class_name: cls,
  config: { dtype: 'float32', trainable: true, ...config },
  name: (config as { name: string }).name,
  inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [],
});

/** Many layer classes in one model, listed out of order. */
function zooConfig(separable: boolean): object {
  const sep = separable
    ? [L('SeparableConv2D', { name: 'sep', filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 2, dilation_rate: [1, 1], activation: 'relu', use_bias: true }, ['zp'])]
    : [
        L('DepthwiseConv2D', { name: 'sepdw', kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 2, dilation_rate: [1, 1], activation: 'linear', use_bias: false }, ['zp']),
        L('Conv2D', { name: 'sep', filters: 4, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', dilation_rate: [1, 1], groups: 1, activation: 'relu', use_bias: true }, ['sepdw']),
      ];
  const layers = [
    L('Dense', { name: 'dense', units: 3, activation: 'softmax', use_bias: true }, ['flat']),
    L('InputLayer', { name: 'inp', batch_input_shape: [null, 12, 12, 3], sparse: false, ragged: false }, []),
    L('ZeroPadding2D', { name: 'zp', padding: [[1, 0], [0, 1]] }, ['inp']),
    ...sep,
    L('DepthwiseConv2D', { name: 'dw', kernel_size: [3, 3], strides: [2, 2], padding: 'valid', depth_multiplier: 1, dilation_rate: [1, 1], activation: 'linear', use_bias: true }, ['sep']),
    L('LeakyReLU', { name: 'lrelu', alpha: 0.1 }, ['dw']),
    L('Cropping2D', { name: 'crop', cropping: [[1, 1], [0, 2]] }, ['lrelu']),
    L('UpSampling2D', { name: 'up', size: [2, 2], interpolation: 'nearest' }, ['crop']),
    L('ReLU', { name: 'relu6', max_value: 6, negative_slope: 0, threshold: 0 }, ['up']),
    L('Conv2D', { name: 'c1', filters: 4, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', dilation_rate: [1, 1], groups: 1, activation: 'tanh', use_bias: false }, ['relu6']),
    L('Add', { name: 'add' }, ['relu6', 'c1']),
    L('BatchNormalization', { name: 'bn', axis: [3], epsilon: 0.01, center: false, scale: true, momentum: 0.99 }, ['add']),
    L('GlobalAveragePooling2D', { name: 'gap', data_format: 'channels_last', keepdims: false }, ['bn']),
    L('Reshape', { name: 'reshape', target_shape: [2, 2] }, ['gap']),
    L('Permute', { name: 'permute', dims: [2, 1] }, ['reshape']),
    L('Flatten', { name: 'flat', data_format: 'channels_last' }, ['permute']),
  ];
  return { class_name: 'Functional', config: { name: 'zoo', layers, input_layers: [['inp', 0, 0]], output_layers: [['dense', 0, 0]] } };
}

function zooWeights(separable: boolean): LayerWeights {
  seed = 777;
  const dwk = w('depthwise_kernel', [3, 3, 3, 2]);
  const pwk = w('pointwise_kernel', [1, 1, 6, 4]);
  const bias = w('bias', [4]);
  const sep: LayerWeights = separable
    ? { sep: [dwk, pwk, bias] }
    : { sepdw: [dwk], sep: [{ ...pwk, name: 'kernel' }, bias] };
  return {
    ...sep,
    dw: [w('depthwise_kernel', [3, 3, 4, 1]), w('bias', [4])],
    c1: [w('kernel', [1, 1, 4, 4])],
    bn: [w('gamma', [4]), { name: 'moving_mean', shape: [4], data: rand(4) }, { name: 'moving_variance', shape: [4], data: Float32Array.from(rand(4), (v) => v + 1) }],
    dense: [w('kernel', [4, 3]), w('bias', [3])],
  };
}

test('layer zoo: SeparableConv split, Depthwise, padding/cropping/upsampling, activation layers, BN without beta', async () => {
  const file = join(dir, 'zoo.h5');
  const weights = zooWeights(true);
  await writeKerasH5(file, zooConfig(true), weights, { style: 'keras2' });
  const g = await loadKerasH5(file);
  assertTopological(g);
  assert.equal(g.nodes[0].name, 'inp');
  const dw = g.nodes.find((n) => n.name === 'sep/depthwise') as LayerNodeOf<'DepthwiseConv'>;
  const pw = g.nodes.find((n) => n.name === 'sep') as LayerNodeOf<'Conv'>;
  assert.equal(dw.kind, 'DepthwiseConv');
  assert.equal(dw.source.className, 'SeparableConv2D');
  assert.deepEqual(dw.inbound, ['zp']);
  assert.equal(dw.params.depthMultiplier, 2);
  assert.equal(dw.params.padding.mode, 'same');
  assert.equal(dw.params.useBias, false);
  assert.equal(dw.activation.name, 'linear');
  assert.deepEqual(dw.weights.kernel.data, weights.sep[0].data);
  assert.equal(pw.kind, 'Conv');
  assert.deepEqual(pw.inbound, ['sep/depthwise']);
  assert.deepEqual(pw.params.kernelSize, [1, 1]);
  assert.equal(pw.activation.name, 'relu');
  assert.deepEqual(pw.weights.kernel.data, weights.sep[1].data);
  assert.deepEqual(pw.weights.bias.data, weights.sep[2].data);
  assert.deepEqual(g.nodes.find((n) => n.name === 'dw')?.inbound, ['sep']);
  assert.deepEqual((g.nodes.find((n) => n.name === 'zp') as LayerNodeOf<'ZeroPadding'>).params.pads, [[1, 0], [0, 1]]);
  assert.deepEqual((g.nodes.find((n) => n.name === 'crop') as LayerNodeOf<'Cropping'>).params.crops, [[1, 1], [0, 2]]);
  assert.deepEqual((g.nodes.find((n) => n.name === 'lrelu') as LayerNodeOf<'Activation'>).params.activation, { name: 'leaky_relu', alpha: 0.1 });
  assert.deepEqual((g.nodes.find((n) => n.name === 'relu6') as LayerNodeOf<'Activation'>).params.activation, { name: 'relu', maxValue: 6 });
  const bn = g.nodes.find((n) => n.name === 'bn') as LayerNodeOf<'BatchNorm'>;
  assert.deepEqual(Object.keys(bn.weights).sort(), ['gamma', 'movingMean', 'movingVariance']);
  assert.equal(bn.params.center, false);
  assert.equal(bn.params.epsilon, 0.01);
  assert.deepEqual((g.nodes.find((n) => n.name === 'permute') as LayerNodeOf<'Permute'>).params.dims, [2, 1]);
  assert.deepEqual((g.nodes.find((n) => n.name === 'reshape') as LayerNodeOf<'Reshape'>).params.targetShape, [2, 2]);
  assert.deepEqual(g.nodes.find((n) => n.name === 'add')?.inbound, ['relu6', 'c1']);
});

test('layer zoo runs through shape inference and gives the same outputs as DepthwiseConv2D + 1x1 Conv2D written out', async (t) => {
  let load: typeof import('../load.js');
  let exec: typeof import('../execute.js');
  let backend: typeof import('../../backend.js');
  try {
    load = await import('../load.js');
    exec = await import('../execute.js');
    backend = await import('../../backend.js');
  } catch {
    t.skip('model/load.ts or execute.ts not available');
    return;
  }
  await backend.useBackend('cpu');
  const a = join(dir, 'zoo-sep.h5');
  const b = join(dir, 'zoo-explicit.h5');
  await writeKerasH5(a, zooConfig(true), zooWeights(true), { style: 'keras2' });
  await writeKerasH5(b, zooConfig(false), zooWeights(false), { style: 'keras2' });
  const ga = await load.loadModel(a);
  const gb = await load.loadModel(b);
  assert.deepEqual(ga.nodes.find((n) => n.name === 'dw')?.outputShape, [null, 6, 6, 4]);
  assert.deepEqual(ga.nodes.find((n) => n.name === 'crop')?.outputShape, [null, 4, 4, 4]);
  assert.deepEqual(ga.nodes.find((n) => n.name === 'flat')?.outputShape, [null, 4]);
  seed = 99;
  const x = { shape: [2, 12, 12, 3], data: rand(2 * 12 * 12 * 3), dtype: 'f4' as const };
  const ya = exec.predict(ga, x);
  const yb = exec.predict(gb, x);
  assert.deepEqual(ya.shape, [2, 3]);
  assert.deepEqual(Array.from(ya.data), Array.from(yb.data));
  for (let s = 0; s < 2; s++) assert.ok(Math.abs(ya.data[s * 3] + ya.data[s * 3 + 1] + ya.data[s * 3 + 2] - 1) < 1e-5);
});

test('config errors name the layer: bad padding, absurd kernel, Keras 3 hard_sigmoid slope, unknown activation', async () => {
  const base = zooConfig(true) as any;
  const write = async (name: string, edit: (ls: any[]) => void): Promise<string> => {
    const c = structuredClone(base);
    edit(c.config.layers);
    const f = join(dir, `${name}.h5`);
    await writeKerasH5(f, c, zooWeights(true), { style: 'keras2' });
    return f;
  };
  const by = (ls: any[], n: string) => ls.find((l: any) => l.config.name === n).config;
  await expectLensError(loadKerasH5(await write('pad', (ls) => (by(ls, 'dw').padding = 'reflect'))), 'UNSUPPORTED_CONFIG', 'dw');
  await expectLensError(loadKerasH5(await write('kern', (ls) => (by(ls, 'c1').kernel_size = [1e9, 1e9]))), 'SHAPE_LIMIT', 'c1');
  await expectLensError(loadKerasH5(await write('act', (ls) => (by(ls, 'c1').activation = 'mish'))), 'UNSUPPORTED_CONFIG', 'c1');
  await expectLensError(loadKerasH5(await write('wshape', (ls) => (by(ls, 'c1').filters = 5))), 'WEIGHT_MISMATCH', 'c1');
  const hs = await write('hs', (ls) => (by(ls, 'c1').activation = 'hard_sigmoid'));
  const g2 = await loadKerasH5(hs);
  assert.equal(g2.nodes.find((n) => n.name === 'c1')?.activation.alpha, 0.2);
  const f3 = join(dir, 'hs3.h5');
  const c3 = structuredClone(base);
  c3.config.layers.find((l: any) => l.config.name === 'c1').config.activation = 'hard_sigmoid';
  await writeKerasH5(f3, c3, zooWeights(true), { style: 'keras2', kerasVersion: '3.1.0' });
  assert.equal((await loadKerasH5(f3)).nodes.find((n) => n.name === 'c1')?.activation.alpha, 1 / 6);
});

test('.keras of the zoo: vars groups named by class and count (not layer name), or by the name attribute', async () => {
  const weights = zooWeights(true);
  const ref = join(dir, 'zoo-ref.h5');
  await writeKerasH5(ref, zooConfig(true), weights, { style: 'keras2' });
  const g2 = await loadKerasH5(ref);
  const v3 = kerasConfigToV3(zooConfig(true) as any);
  for (const nameAttrs of [false, true]) {
    const f = join(dir, `zoo-${nameAttrs}.keras`);
    await writeKerasZip(f, v3, weights, { nameAttrs });
    assertSameGraph(await loadKerasV3(f), g2);
    // Where Keras 3 puts them: user-named layers c1 (Conv2D), sep, dw, bn by class.
    const tmp = join(dir, `zoo-${nameAttrs}.weights.h5`);
    writeFileSync(tmp, ZipArchive.open(new Uint8Array(readFileSync(f))).read('model.weights.h5')!);
    await h5wasm.ready;
    const h = new h5wasm.File(tmp, 'r');
    try {
      const get = (p: string) => Array.from((h.get(p) as InstanceType<typeof h5wasm.Dataset>).value as Float32Array);
      assert.deepEqual(get('layers/conv2d/vars/0'), Array.from(weights.c1[0].data));
      assert.deepEqual(get('layers/separable_conv2d/vars/1'), Array.from(weights.sep[1].data));
      assert.deepEqual(get('layers/depthwise_conv2d/vars/1'), Array.from(weights.dw[1].data));
      assert.deepEqual(get('layers/batch_normalization/vars/0'), Array.from(weights.bn[0].data));
      assert.equal(h.get('layers/c1'), null);
    } finally {
      h.close();
    }
  }
});
