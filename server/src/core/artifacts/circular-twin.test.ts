import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES } from '../../testing/paths.js';
import { tf, useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import { forwardAll, disposeAll, runGraph } from '../model/execute.js';
import { circularLonTwin } from './twins.js';

test('the circular-longitude twin is periodic in longitude: rolling the input by the total stride rolls its features by one cell', { timeout: 120_000 }, async (t) => {
  const file = join(SAMPLES, 'models', 'cnn_same_maxpool', 'model.json');
  if (!existsSync(file)) return t.skip('samples/models/cnn_same_maxpool not trained yet (npm run samples)');
  await useBackend('wasm');
  const graph = await loadModel(file);
  const twin = circularLonTwin(graph, 2);
  assert.ok(twin, 'a same-padded CNN with a Flatten head has a circular twin');
  // Two 2x2 poolings: the last feature map (pool2) steps 4 input columns per cell.
  const [h, w] = [24, 72];
  const x = Float32Array.from({ length: h * w }, (_, i) => Math.sin(0.37 * i) + Math.cos(0.11 * (i % w)));
  const rolled = Float32Array.from({ length: h * w }, (_, i) => x[Math.floor(i / w) * w + ((i % w) - 4 + w) % w]);
  const feats = (g: typeof graph, data: Float32Array) => {
    const input = tf.tensor(data, [1, h, w, 1]);
    const acts = forwardAll(g, input);
    const out = acts.get('pool2')!;
    const res = { shape: out.shape, data: out.dataSync() as Float32Array };
    disposeAll(acts);
    input.dispose();
    return res;
  };
  const a = feats(twin!, x);
  const b = feats(twin!, rolled);
  const [, fh, fw, fc] = a.shape;
  let maxDiff = 0;
  for (let r = 0; r < fh; r++) for (let c = 0; c < fw; c++) for (let k = 0; k < fc; k++) {
    maxDiff = Math.max(maxDiff, Math.abs(b.data[(r * fw + ((c + 1) % fw)) * fc + k] - a.data[(r * fw + c) * fc + k]));
  }
  assert.ok(maxDiff < 1e-4, `rolled features differ by ${maxDiff}`);
  // The original (zero-padded) model is not periodic: the same roll changes its edge features.
  const o1 = feats(graph, x);
  const o2 = feats(graph, rolled);
  let origDiff = 0;
  for (let r = 0; r < fh; r++) for (let c = 0; c < fw; c++) for (let k = 0; k < fc; k++) {
    origDiff = Math.max(origDiff, Math.abs(o2.data[(r * fw + ((c + 1) % fw)) * fc + k] - o1.data[(r * fw + c) * fc + k]));
  }
  assert.ok(origDiff > 1e-3, `zero padding should break periodicity (diff ${origDiff})`);
  // Interior cells, far from the longitude edges, are the same in the twin and the original.
  const mid = Math.floor(fw / 2);
  for (let r = 0; r < fh; r++) for (let k = 0; k < fc; k++) {
    const i = (r * fw + mid) * fc + k;
    assert.ok(Math.abs(a.data[i] - o1.data[i]) < 1e-4, `interior cell ${r},${mid},${k}`);
  }
  // Same head: the twin runs end to end and gives one output per class.
  const xt = tf.tensor(x, [1, h, w, 1]);
  const y = runGraph(twin!, xt);
  const y0 = runGraph(graph, xt);
  assert.deepEqual(y.shape, y0.shape);
  tf.dispose([xt, y, y0]);
});
