import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { REF, scratchDir } from '../../../testing/paths.js';
import { kerasConfigToV3, readKerasH5Raw, writeKerasH5, writeKerasWeightsH5 } from './keras-h5-writer.js';

const dir = scratchDir('keras-h5-writer');

test('Keras 2 and Keras 3 layouts are written where Keras puts them', async () => {
  const raw = await readKerasH5Raw(join(REF, 'cnn_same', 'model.h5'));
  assert.deepEqual(raw.weights.conv2d.map((w) => w.name), ['kernel', 'bias']);
  const k2 = join(dir, 'k2.h5');
  const k3 = join(dir, 'k3.h5');
  const vars = join(dir, 'v.weights.h5');
  await writeKerasH5(k2, raw.config, raw.weights, { style: 'keras2', layerNames: raw.layerNames });
  await writeKerasH5(k3, kerasConfigToV3(raw.config), raw.weights, { style: 'keras3', scope: 'sequential', layerNames: raw.layerNames });
  await writeKerasWeightsH5(vars, raw.weights, { style: 'keras3', layout: 'vars', modelConfig: raw.config, optimizerVars: 2 });
  await h5wasm.ready;
  const f2 = new h5wasm.File(k2, 'r');
  const f3 = new h5wasm.File(k3, 'r');
  const fv = new h5wasm.File(vars, 'r');
  try {
    assert.deepEqual((f2.get('model_weights/conv2d') as InstanceType<typeof h5wasm.Group>).attrs.weight_names.value, ['conv2d/kernel:0', 'conv2d/bias:0']);
    assert.deepEqual((f3.get('model_weights/conv2d') as InstanceType<typeof h5wasm.Group>).attrs.weight_names.value, ['sequential/conv2d/kernel', 'sequential/conv2d/bias']);
    const a = (f2.get('model_weights/dense/dense/kernel:0') as InstanceType<typeof h5wasm.Dataset>).value as Float32Array;
    const b = (f3.get('model_weights/dense/sequential/dense/kernel') as InstanceType<typeof h5wasm.Dataset>).value as Float32Array;
    const c = (fv.get('layers/dense/vars/0') as InstanceType<typeof h5wasm.Dataset>).value as Float32Array;
    assert.deepEqual(a, raw.weights.dense[0].data);
    assert.deepEqual(b, a);
    assert.deepEqual(c, a);
    const cfg3 = JSON.parse(String(f3.attrs.model_config.value));
    assert.deepEqual(cfg3.config.layers[0].config.batch_shape, [null, 16, 32, 1]);
    assert.equal(cfg3.config.layers[1].config.dtype.class_name, 'DTypePolicy');
    assert.equal(cfg3.config.layers[1].module, 'keras.layers');
    assert.equal(f3.attrs.keras_version.value, '3.3.3');
  } finally {
    f2.close();
    f3.close();
    fv.close();
  }
});
