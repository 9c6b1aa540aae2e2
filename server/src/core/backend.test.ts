/**
 * Backend selection: a GPU backend that cannot run is a BACKEND_UNAVAILABLE error that says why (never a
 * silent fallback), and `auto` says which backend it picked and why it skipped the others. On a machine
 * with a GPU the same tests check that the GPU backend is really the one in use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LensError } from './errors.js';
import { backendChoice, tf, useBackend } from './backend.js';

async function outcome(name: 'webgpu' | 'tensorflow-gpu'): Promise<string | LensError> {
  try {
    return await useBackend(name);
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${e}`);
    return e;
  }
}

test('webgpu either runs on a GPU adapter or is BACKEND_UNAVAILABLE naming the cause', async () => {
  const r = await outcome('webgpu');
  if (typeof r === 'string') {
    assert.equal(r, 'webgpu');
    assert.equal(tf.getBackend(), 'webgpu');
    assert.equal(backendChoice()?.used, 'webgpu');
  } else {
    assert.equal(r.code, 'BACKEND_UNAVAILABLE');
    assert.match(r.message, /webgpu/);
    assert.match(r.message, /adapter|package|initialise/);
  }
});

test('tensorflow-gpu either runs on CUDA or is BACKEND_UNAVAILABLE naming the package or the cause', async () => {
  const r = await outcome('tensorflow-gpu');
  if (typeof r === 'string') assert.equal(r, 'tensorflow');
  else {
    assert.equal(r.code, 'BACKEND_UNAVAILABLE');
    assert.match(r.message, /@tensorflow\/tfjs-node-gpu|CUDA/);
  }
});

test('auto prefers a working GPU backend, else wasm, and reports why it skipped the others', async () => {
  const gpu = (await outcome('webgpu')) === 'webgpu' ? 'webgpu' : undefined;
  const cuda = (await outcome('tensorflow-gpu')) === 'tensorflow' ? 'tensorflow-gpu' : undefined;
  await useBackend('auto');
  const c = backendChoice()!;
  assert.equal(c.requested, 'auto');
  assert.equal(c.used, cuda ?? gpu ?? 'wasm');
  if (c.used === 'wasm') {
    assert.deepEqual(c.skipped.map((s) => s.backend), ['tensorflow-gpu', 'webgpu']);
    for (const s of c.skipped) assert.ok(s.reason.length > 10, s.reason);
  }
  // An explicit CPU backend afterwards is honoured.
  assert.equal(await useBackend('wasm'), 'wasm');
  assert.equal(backendChoice()?.used, 'wasm');
});
