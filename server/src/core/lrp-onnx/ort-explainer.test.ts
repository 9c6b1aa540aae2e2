/**
 * OrtExplainer's session handling: one lowering and session per (graph, composite, parameters, init),
 * shared while any explainer holds it and rebuilt after the last one lets go; another init is its own
 * session; inputs and targets are checked before anything runs; chooseEngine says why it falls back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LensError } from '../errors.js';
import { GraphBuilder, randomArray, rng } from '../lrp/test-graphs.js';
import { worstRelPerSample } from '../../testing/arrays.js';
import { OrtExplainer, chooseEngine } from './ort-explainer.js';

function net() {
  const b = new GraphBuilder(rng(21), [null, 6, 5, 1]);
  b.conv(3, 1, [3, 3], { activation: { name: 'relu' } });
  b.flatten();
  b.dense(2, 90);
  return b.build('small');
}

test('sessions are shared per (graph, composite, parameters) and released with their last explainer', async () => {
  const g = net();
  const a = await OrtExplainer.create(g, { composite: 'epsilon-plus' });
  const b = await OrtExplainer.create(g, { composite: 'epsilon-plus' });
  const c = await OrtExplainer.create(g, { composite: 'epsilon-plus', epsilon: 0.1 });
  assert.equal(a.lowered, b.lowered, 'same key: one lowering and session');
  assert.notEqual(a.lowered, c.lowered, 'other parameters: another');
  const x = { shape: [3, 6, 5, 1], data: randomArray(90, rng(22)), dtype: 'f4' as const };
  const one = await a.explain(x);
  const other = await a.explain(x, { init: 'output' });
  assert.equal(one.init, 'onehot');
  assert.equal(other.init, 'output');
  // With the output init the relevance is the one-hot relevance scaled by the explained output.
  other.relevanceSum.forEach((v, s) => assert.ok(Math.abs(v - one.relevanceSum[s] * one.targets[s].value) <= 1e-4 * Math.max(1, Math.abs(v))));
  await a.dispose();
  await assert.rejects(a.explain(x), LensError);
  assert.deepEqual((await b.explain(x)).relevance.data, one.relevance.data, 'b still has the shared session');
  await b.dispose();
  const d = await OrtExplainer.create(g, { composite: 'epsilon-plus' });
  assert.notEqual(d.lowered, a.lowered, 'a new session after the last user let go');
  await assert.rejects(d.explain({ shape: [1, 5, 6, 1], data: new Float32Array(30), dtype: 'f4' }), (e: unknown) => e instanceof LensError && e.code === 'BAD_INPUT');
  await assert.rejects(d.explain(x, { target: { type: 'index', index: 2 } }), (e: unknown) => e instanceof LensError && e.code === 'SELECTION_OUT_OF_RANGE');
  // A missing batch axis is added.
  assert.deepEqual((await d.explain({ shape: [6, 5, 1], data: x.data.slice(0, 30), dtype: 'f4' })).relevance.shape, [1, 6, 5, 1]);
  await Promise.all([c.dispose(), d.dispose()]);
});

test('a pool of worker threads, one single-threaded session each, gives the relevance of the one session', async () => {
  const g = net();
  const x = { shape: [9, 6, 5, 1], data: randomArray(270, rng(24)), dtype: 'f4' as const };
  const one = await OrtExplainer.create(g, { composite: 'epsilon-gamma-box', low: -1, high: 1 });
  const pool = await OrtExplainer.create(g, { composite: 'epsilon-gamma-box', low: -1, high: 1, workers: 2 });
  try {
    const a = await one.explain(x, { chunkSize: 2 });
    const b = await pool.explain(x, { chunkSize: 2 });
    assert.deepEqual(b.targets, a.targets);
    assert.ok(worstRelPerSample(b.relevance.data as Float32Array, a.relevance.data as Float32Array, 9) <= 1e-6);
    assert.deepEqual(b.layers.map((l) => l.name), a.layers.map((l) => l.name));
  } finally {
    await Promise.all([one.dispose(), pool.dispose()]);
  }
});

test('chooseEngine runs ORT where the model lowers and says why not where it does not', async () => {
  const ok = await chooseEngine(net(), { composite: 'epsilon' });
  assert.equal(ok.engine, 'onnxruntime');
  if (ok.engine === 'onnxruntime') await ok.explainer.dispose();
  const b = new GraphBuilder(rng(23), [null, 6, 5, 1]);
  b.conv(3, 1, [3, 3]);
  b.activation('gelu');
  b.flatten();
  b.dense(2, 90);
  const no = await chooseEngine(b.build('gelu'), { composite: 'epsilon' });
  assert.equal(no.engine, 'tfjs');
  if (no.engine === 'tfjs') assert.match(no.reason, /gelu.*layer/);
});
