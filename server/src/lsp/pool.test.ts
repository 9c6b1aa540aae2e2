import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REAL } from '../testing/paths.js';
import { WorkerPool, defaultWorkerScript } from './pool.js';
import type { ModelSummary } from '../protocol.js';

// Workers read the hooks from their environment (copied at spawn).
process.env.LRP_LENS_TEST_HOOKS = '1';

function makePool(crashes: string[] = []) {
  return new WorkerPool({
    script: defaultWorkerScript(),
    size: 1,
    cancelGraceMs: 300,
    onCrash: ({ error }) => crashes.push(error.message),
  });
}

test('a worker analyzes a real model off the protocol thread', async () => {
  const pool = makePool();
  try {
    const file = join(REAL, 'sevir', 'MyFirstCNN.h5');
    const s = await pool.run<ModelSummary>('analyze', { file, settings: { composite: 'epsilon-plus', disabledChecks: [] } }).promise;
    assert.equal(s.state, 'ok');
    assert.equal(s.file, file);
    // One 3x3 valid conv, Flatten, Dense sigmoid (see real-models/README.md).
    assert.ok(s.layers.some((l) => l.className === 'Conv2D'), JSON.stringify(s.layers.map((l) => l.className)));
    assert.ok(s.layers.some((l) => l.className === 'Dense'));
    assert.ok(s.totalParams > 0);
  } finally {
    await pool.dispose();
  }
});

test('a load error comes back as a structured error and the worker keeps serving', async () => {
  const pool = makePool();
  try {
    const broken = join(REAL, 'ninolearn-broken', 'member0.h5');
    await assert.rejects(pool.run('analyze', { file: broken, settings: { composite: 'epsilon', disabledChecks: [] } }).promise, (e: { code?: string; file?: string }) => {
      assert.equal(e.code, 'MISSING_WEIGHTS');
      assert.equal(e.file, broken);
      return true;
    });
    const ok = await pool.run<ModelSummary>('analyze', { file: join(REAL, 'sevir', 'MyFirstNN.h5'), settings: { composite: 'epsilon', disabledChecks: [] } }).promise;
    assert.equal(ok.state, 'ok');
  } finally {
    await pool.dispose();
  }
});

test('a crashed worker is reported, its job fails, and a replacement serves the next job', async () => {
  const crashes: string[] = [];
  const pool = makePool(crashes);
  try {
    // Let the first worker start, so the crash is a crash during a job, not a failed start.
    await pool.run('spin', { ms: 1 }).promise;
    await assert.rejects(pool.run('crash', {}).promise, /worker crashed/);
    assert.equal(crashes.length, 1);
    assert.equal(await pool.run<number>('spin', { ms: 5 }).promise > 0, true);
  } finally {
    await pool.dispose();
  }
});

test('cancellation: a running job stops at its next check; a job that ignores it loses its worker', async () => {
  const pool = makePool();
  try {
    await pool.run('spin', { ms: 1 }).promise;
    const progress: number[] = [];
    const h = pool.run('spin', { ms: 20_000 }, { onProgress: (d) => progress.push(d) });
    setTimeout(() => h.cancel(), 200);
    const t0 = Date.now();
    await assert.rejects(h.promise, (e: { code?: string }) => e.code === 'CANCELLED');
    assert.ok(Date.now() - t0 < 10_000);
    assert.ok(progress.length > 0, 'progress was reported before the cancel');

    const stubborn = pool.run('spin', { ms: 20_000, ignoreCancel: true });
    const queued = pool.run('spin', { ms: 1 });
    setTimeout(() => stubborn.cancel(), 200);
    await assert.rejects(stubborn.promise, /worker stopped/);
    // The job queued behind it runs on the replacement worker.
    assert.ok((await queued.promise as number) > 0);
    assert.equal(pool.active.size, 0);
  } finally {
    await pool.dispose();
  }
});

test('a queued job can be cancelled before it starts', async () => {
  const pool = makePool();
  try {
    const first = pool.run('spin', { ms: 300 });
    const second = pool.run('spin', { ms: 300 });
    second.cancel();
    await assert.rejects(second.promise, /before it started/);
    assert.ok((await first.promise as number) > 0);
  } finally {
    await pool.dispose();
  }
});

test('a pool of two workers explains on ONNX Runtime in both (each worker\'s sessions on its share of the cores)', { timeout: 300_000 }, async () => {
  const { REF } = await import('../testing/paths.js');
  const pool = new WorkerPool({ script: defaultWorkerScript(), size: 2, workerData: { backend: 'auto' } });
  try {
    const model = join(REF, 'cnn_same', 'model.h5');
    const data = join(REF, 'cnn_same', 'x_nhwc.npy');
    const job = (target: number) => pool.run<{ backend: string; relevance: { base64: string } }>('explain', { file: model, params: { model, samples: { data }, composite: 'epsilon', target }, composite: { name: 'epsilon', params: {} }, compositeExplicit: true }).promise;
    // Two at once: one per worker.
    const [a, b, c] = await Promise.all([job(0), job(0), job(1)]);
    for (const r of [a, b, c]) assert.equal(r.backend, 'onnxruntime');
    assert.equal(a.relevance.base64, b.relevance.base64);
    assert.notEqual(a.relevance.base64, c.relevance.base64);
  } finally {
    await pool.dispose();
  }
});
