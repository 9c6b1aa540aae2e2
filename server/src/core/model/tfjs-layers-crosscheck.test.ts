/**
 * Real Keras models run by our executor agree with tfjs-layers' own Keras implementation (an
 * independent one: it builds the model from the file's config and its weights by layer name).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tf, useBackend } from '../backend.js';
import { BENCH, REAL } from '../../testing/paths.js';
import { loadModel } from './load.js';
import { predict } from './execute.js';
import { readKerasH5Raw } from './writers/keras-h5-writer.js';

before(async () => {
  await useBackend('wasm');
});

/** tfjs-layers has no L1/L2 regularizer classes registered; they do nothing at inference, so drop them. */
function stripRegularizers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripRegularizers);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, c] of Object.entries(v)) out[k] = /_regularizer$/.test(k) ? null : stripRegularizers(c);
    return out;
  }
  return v;
}

const FILES = [
  join(REAL, 'sevir', 'MyFirstCNN.h5'),
  join(REAL, 'sevir', 'MyFirstNN.h5'),
  join(REAL, 'sevir', 'sub-sevir-cnn-class-1d.h5'),
  join(REAL, 'sevir', 'sub-sevir-cnn-reg-1d.h5'),
  join(REAL, 'sevir', 'sub-sevir-unet-class-2d.h5'),
  join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5'),
  join(BENCH, 'sst_cnn.h5'),
];

for (const file of FILES) {
  test(`${file.split('/').slice(-2).join('/')}: our run equals tfjs-layers' Keras`, async () => {
    const raw = await readKerasH5Raw(file);
    const model = await tf.models.modelFromJSON({ modelTopology: stripRegularizers(raw.config) } as tf.io.ModelJSON);
    for (const layer of model.layers) {
      if (!layer.weights.length) continue;
      const ws = raw.weights[layer.name];
      assert.ok(ws, `weights for ${layer.name}`);
      layer.setWeights(ws.map((w) => tf.tensor(w.data, w.shape)));
    }
    const g = await loadModel(file);
    const shape = g.inputs[0].fileShape.map((d, i) => (i === 0 ? 2 : d ?? 32)) as number[];
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37) * 2);
    const ours = predict(g, { shape, data, dtype: 'f4' });
    const theirs = tf.tidy(() => (model.predict(tf.tensor(data, shape)) as tf.Tensor).dataSync());
    model.dispose();
    assert.equal(ours.data.length, theirs.length);
    let err = 0;
    let scale = 0;
    for (let i = 0; i < theirs.length; i++) {
      err = Math.max(err, Math.abs(theirs[i] - ours.data[i]));
      scale = Math.max(scale, Math.abs(theirs[i]));
    }
    console.log(`# ${file.split('/').pop()}: max |ours - tfjs-layers| = ${err.toExponential(2)} (max |output| ${scale.toExponential(2)})`);
    assert.ok(err <= 1e-4 * scale + 1e-6, `error ${err}`);
  });
}
