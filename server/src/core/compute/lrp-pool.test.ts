/**
 * The worker pool gives the single-thread result: relevance, outputs, targets and per-layer sums, for a
 * batch split unevenly over the workers, and for one sample. Errors inside a worker come back as LensErrors.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REF } from '../../testing/paths.js';
import { readNpy } from '../data/npy.js';
import { loadModel } from '../model/load.js';
import { useBackend } from '../backend.js';
import { LrpExplainer, type ExplainerOptions } from '../lrp/engine.js';
import { LrpPool, splitBatch } from './lrp-pool.js';
import { LensError } from '../errors.js';

const pools: LrpPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

test('splitBatch gives contiguous shares whose sizes differ by at most one', () => {
  const x = { shape: [5, 2], data: Float32Array.from({ length: 10 }, (_, i) => i), dtype: 'f4' as const };
  const parts = splitBatch(x, 3);
  assert.deepEqual(parts.map((p) => p.shape[0]), [2, 2, 1]);
  assert.deepEqual(parts.flatMap((p) => [...p.data]), [...x.data]);
});

for (const file of ['cnn_same/model.h5', 'cnn_same/model.onnx']) {
  test(`pool of 2 workers equals one thread (${file}, epsilon-gamma-box)`, async () => {
    await useBackend('wasm');
    const graph = await loadModel(join(REF, file));
    const xFile = file.endsWith('.onnx') ? 'x_nchw.npy' : 'x_nhwc.npy';
    const full = readNpy(new Uint8Array(readFileSync(join(REF, 'cnn_same', xFile))));
    // 7 samples: an uneven split (4 + 3).
    const per = full.data.length / full.shape[0];
    const x = { ...full, shape: [7, ...full.shape.slice(1)], data: full.data.slice(0, 7 * per) };
    const opts: ExplainerOptions = { composite: 'epsilon-gamma-box', low: -3, high: 3, gamma: 0.25 };
    const ex = new LrpExplainer(graph, opts);
    const ref = ex.explain(x, { target: { type: 'predicted' }, chunkSize: 3 });
    const one = ex.explain({ ...x, shape: [1, ...x.shape.slice(1)], data: x.data.slice(0, per) }, { target: { type: 'index', index: 1 } });
    ex.dispose();
    const pool = await LrpPool.create(graph, opts, { workers: 2, backend: 'wasm' });
    pools.push(pool);
    assert.equal(pool.size, 2);
    const got = await pool.explain(x, { target: { type: 'predicted' }, chunkSize: 3 });
    assert.deepEqual(got.relevance.shape, ref.relevance.shape);
    assert.ok(maxRelDiff(got.relevance.data, ref.relevance.data) <= 1e-6);
    assert.ok(maxRelDiff(got.output.data, ref.output.data) <= 1e-6);
    assert.deepEqual(got.targets, ref.targets);
    assert.equal(got.layers.length, ref.layers.length);
    for (const [i, l] of got.layers.entries()) {
      assert.equal(l.name, ref.layers[i].name);
      assert.ok(maxRelDiff(l.relevanceSum, ref.layers[i].relevanceSum) <= 1e-6, l.name);
    }
    const single = await pool.explain({ ...x, shape: [1, ...x.shape.slice(1)], data: x.data.slice(0, per) }, { target: { type: 'index', index: 1 } });
    assert.ok(maxRelDiff(single.relevance.data, one.relevance.data) <= 1e-6);
  });
}

test('a bad input inside a worker comes back as a LensError', async () => {
  const graph = await loadModel(join(REF, 'mlp', 'model.h5'));
  const pool = await LrpPool.create(graph, { composite: 'epsilon' }, { workers: 2 });
  pools.push(pool);
  await assert.rejects(pool.explain({ shape: [2, 3], data: new Float32Array(6), dtype: 'f4' }), (e: unknown) => e instanceof LensError && e.code === 'BAD_INPUT');
});
