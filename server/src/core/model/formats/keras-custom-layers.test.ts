/**
 * Custom layers in Keras files (.h5 and .keras): a model whose outputs can be computed without the
 * custom layer loads that part, records what was left out, and runs; one whose every output needs it
 * is refused with CUSTOM_LAYER naming the class and its parameters.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useBackend } from '../../backend.js';
import { toFloat32 } from '../../array.js';
import { scratchDir } from '../../../testing/paths.js';
import { mulberry32 } from '../../random.js';
import { loadKerasH5 } from './keras-h5.js';
import { loadKerasV3 } from './keras-v3.js';
import { predict } from '../execute.js';
import { loadModel } from '../load.js';
import { expectLensError } from './keras-testkit.js';
import { kerasConfigToV3, writeKerasH5, type LayerWeights } from '../writers/keras-h5-writer.js';
import { writeKerasZip } from '../writers/keras-zip-writer.js';

const dir = scratchDir('keras-custom-layers');
const rand = mulberry32(4242);
const w = (name: string, shape: number[]) => ({ name, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() - 0.5) });

const L = (cls: string, config: object, inputs: string[]) => ({
  class_name: cls,
  config: { dtype: 'float32', trainable: true, ...config },
  name: (config as { name: string }).name,
  inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [],
});

/** Input(4) -> a (Dense 3 relu) -> mu (Dense 1) and ls (Dense 1) -> sig (custom Exponentiate); outputs as given. */
function config(outputs: string[][], concat: boolean): object {
  const layers = [
    L('InputLayer', { name: 'inp', batch_input_shape: [null, 4] }, []),
    L('Dense', { name: 'a', units: 3, activation: 'relu', use_bias: true }, ['inp']),
    L('Dense', { name: 'mu', units: 1, activation: 'linear', use_bias: true }, ['a']),
    L('Dense', { name: 'ls', units: 1, activation: 'linear', use_bias: true }, ['a']),
    L('Exponentiate', { name: 'sig', base: 2 }, ['ls']),
    ...(concat ? [L('Concatenate', { name: 'cat', axis: -1 }, ['mu', 'sig'])] : []),
  ];
  return { class_name: 'Functional', config: { name: 'shash', layers, input_layers: [['inp', 0, 0]], output_layers: outputs.map((o) => [o[0], 0, 0]) } };
}

const weights: LayerWeights = {
  a: [w('kernel', [4, 3]), w('bias', [3])],
  mu: [w('kernel', [3, 1]), w('bias', [1])],
  ls: [w('kernel', [3, 1]), w('bias', [1])],
};

/** mu = relu(x A + a) M + m, in float64 from the weights written. */
function muRef(x: number[]): number {
  const [A, a] = weights.a;
  const [M, m] = weights.mu;
  let y = m.data[0];
  for (let j = 0; j < 3; j++) {
    let h = a.data[j];
    for (let i = 0; i < 4; i++) h += x[i] * A.data[i * 3 + j];
    y += Math.max(h, 0) * M.data[j];
  }
  return y;
}

before(async () => {
  await useBackend('wasm');
});

test('.h5: the Concatenate output keeps its built-in input; the custom branch is recorded as omitted', async () => {
  const f = join(dir, 'cat.h5');
  await writeKerasH5(f, config([['cat']], true), weights, { style: 'keras2' });
  const g = await loadModel(f);
  assert.deepEqual(g.nodes.map((n) => n.name), ['inp', 'a', 'mu']);
  assert.deepEqual(g.outputs.map((o) => o.node), ['mu']);
  assert.deepEqual(g.omitted, [
    { layer: 'ls', className: 'Dense', reason: 'feeds only layers that were left out' },
    { layer: 'sig', className: 'Exponentiate', reason: 'custom layer class Exponentiate (not a built-in Keras layer): not loaded', config: { base: 2 } },
    { layer: 'cat', className: 'Concatenate', reason: 'model output that needs custom layer sig; its inputs mu are the outputs instead' },
  ]);
  const xs = [[0.5, -1, 2, 0.25], [1, 1, -0.5, 3]];
  const y = predict(g, { shape: [2, 4], data: Float32Array.from(xs.flat()), dtype: 'f4' });
  const got = toFloat32(y);
  xs.forEach((x, i) => assert.ok(Math.abs(got[i] - muRef(x)) <= 1e-5 * Math.max(1, Math.abs(muRef(x))), `${got[i]} vs ${muRef(x)}`));
});

test('.h5: two outputs, one needing the custom layer: the other is the output', async () => {
  const f = join(dir, 'two.h5');
  await writeKerasH5(f, config([['mu'], ['sig']], false), weights, { style: 'keras2' });
  const g = await loadKerasH5(f);
  assert.deepEqual(g.outputs.map((o) => o.node), ['mu']);
  assert.deepEqual(g.omitted?.map((o) => o.layer), ['ls', 'sig']);
});

test('every output needs the custom layer: CUSTOM_LAYER with the class and its parameters', async () => {
  const f = join(dir, 'only.h5');
  await writeKerasH5(f, config([['sig']], false), weights, { style: 'keras2' });
  const e = await expectLensError(loadKerasH5(f), 'CUSTOM_LAYER', 'sig');
  assert.match(e.message, /class Exponentiate, parameters \{"base":2\}/);
});

test('.keras with a layer from a user module: the same partial load', async () => {
  const v3 = kerasConfigToV3(config([['cat']], true) as never) as { config: { layers: { class_name: string; module?: string; registered_name?: string }[] } };
  const sig = v3.config.layers.find((l) => l.class_name === 'Exponentiate');
  assert.ok(sig);
  sig.module = 'shash_layers';
  sig.registered_name = 'Custom>Exponentiate';
  const f = join(dir, 'cat.keras');
  await writeKerasZip(f, v3, weights);
  const g = await loadKerasV3(f);
  assert.deepEqual(g.outputs.map((o) => o.node), ['mu']);
  assert.match(g.omitted?.find((o) => o.layer === 'sig')?.reason ?? '', /custom layer class Exponentiate/);
});
