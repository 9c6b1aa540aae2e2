import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND_NAMES } from './names.js';
import { probeBackends, type ProbeEnv } from './backend-availability.js';
import { REPO } from '../testing/paths.js';

const byName = (list: Awaited<ReturnType<typeof probeBackends>>) => Object.fromEntries(list.map((b) => [b.name, b]));

test('the probe on this machine: ONNX Runtime loads, wasm and cpu ship; tfjs-node(-gpu) only when installed; webgpu only with an adapter', async (t) => {
  const list = await probeBackends();
  t.diagnostic(list.map((b) => `${b.name}: ${b.available ? 'yes' : `no (${b.reason})`}`).join('; '));
  assert.deepEqual(list.map((b) => b.name), [...BACKEND_NAMES], 'every name, in order');
  const b = byName(list);
  for (const name of ['auto', 'onnxruntime', 'wasm', 'cpu']) assert.equal(b[name].available, true, name);
  // Installed or not, read independently of the probe: the package folders.
  const has = (pkg: string) => existsSync(join(REPO, 'node_modules', ...pkg.split('/'), 'package.json'));
  assert.equal(b.tensorflow.available, has('@tensorflow/tfjs-node'));
  assert.equal(b['tensorflow-gpu'].available, has('@tensorflow/tfjs-node-gpu'));
  if (!has('@tensorflow/tfjs-node-gpu')) assert.match(b['tensorflow-gpu'].reason!, /@tensorflow\/tfjs-node-gpu/);
  if (!has('@tensorflow/tfjs-backend-webgpu') || !has('webgpu')) assert.equal(b.webgpu.available, false);
  // Whatever cannot run says why and how to get it.
  for (const x of list) if (!x.available) assert.ok(x.reason && x.howTo, `${x.name}: reason and how-to`);
});

const env = (over: Partial<ProbeEnv>): ProbeEnv => ({
  hasPackage: () => false,
  loadOnnxRuntime: async () => ({}),
  startOrtProvider: async () => {
    throw new Error('no GPU');
  },
  hasGpuAdapter: async () => false,
  ...over,
});

test('the probe: a binding that does not load, missing packages, and WebGPU with and without an adapter', async () => {
  const broken = byName(await probeBackends(env({ loadOnnxRuntime: async () => { throw new Error('libonnxruntime.so.1: cannot open shared object file\nmore'); } })));
  assert.equal(broken.onnxruntime.available, false);
  assert.equal(broken.onnxruntime.reason, 'onnxruntime-node did not load: libonnxruntime.so.1: cannot open shared object file');
  assert.equal(broken.wasm.available, true, 'wasm ships with the extension');

  const none = byName(await probeBackends(env({})));
  assert.equal(none.tensorflow.available, false);
  assert.match(none['tensorflow-gpu'].howTo!, /install @tensorflow\/tfjs-node-gpu next to the extension/);
  assert.match(none.webgpu.reason!, /needs @tensorflow\/tfjs-backend-webgpu and webgpu/);

  let asked = 0;
  const noAdapter = byName(await probeBackends(env({ hasPackage: () => true, hasGpuAdapter: async () => (asked++, false) })));
  assert.equal(noAdapter.webgpu.available, false);
  assert.match(noAdapter.webgpu.reason!, /no GPU adapter/);
  assert.equal(asked, 1, 'the adapter is asked for once the packages are there');
  assert.equal(noAdapter['tensorflow-gpu'].available, true, 'a present package counts (CUDA is checked when it is used)');

  const gpu = byName(await probeBackends(env({ hasPackage: () => true, hasGpuAdapter: async () => true })));
  assert.equal(gpu.webgpu.available, true);
});
