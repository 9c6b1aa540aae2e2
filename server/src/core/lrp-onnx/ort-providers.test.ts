/**
 * ONNX Runtime's GPU providers as backends: `onnxruntime-webgpu` and `onnxruntime-cuda` either start and
 * give the CPU provider's relevance (to float32 rounding), or are BACKEND_UNAVAILABLE saying what is
 * missing and what to use instead, like the tfjs GPU backends; never a silent CPU run. Here (no GPU) the
 * second branch runs; scripts/gpu-check.sh runs the first on a GPU machine. The wording is also checked
 * against a stand-in runtime, so it does not depend on the machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LensError } from '../errors.js';
import { backendChoice } from '../backend.js';
import { loadModel } from '../model/load.js';
import { readNpyFile } from '../../testing/arrays.js';
import { REF, scratchDir } from '../../testing/paths.js';
import { OrtExplainer } from './ort-explainer.js';
import { ortProvider, probeProvider, useEngine, type OrtProvider } from './ort-providers.js';
import type { Ort } from './ort-load.js';
import { run as explainCli } from '../../cli/explain.js';

async function outcome(name: 'onnxruntime-webgpu' | 'onnxruntime-cuda'): Promise<string | LensError> {
  try {
    return await useEngine(name);
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${e}`);
    return e;
  }
}

const WORDING: Record<'onnxruntime-webgpu' | 'onnxruntime-cuda', RegExp> = {
  'onnxruntime-webgpu': /^backend 'onnxruntime-webgpu' found no GPU adapter \(no GPU, or no Vulkan\/Metal\/D3D12 driver.*\); use --backend onnxruntime or wasm \(ONNX Runtime: .+\)$/,
  'onnxruntime-cuda': /^backend 'onnxruntime-cuda' needs ONNX Runtime's CUDA provider \(libonnxruntime_providers_cuda\.so.*ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm rebuild onnxruntime-node\).*; use --backend onnxruntime or wasm \(ONNX Runtime: .+\)$/,
};

for (const name of ['onnxruntime-webgpu', 'onnxruntime-cuda'] as const) {
  test(`${name} either runs LRP on its GPU provider like the CPU provider, or is BACKEND_UNAVAILABLE saying why`, { timeout: 300_000 }, async () => {
    await useEngine('onnxruntime');
    const r = await outcome(name);
    const model = await loadModel(join(REF, 'cnn_same', 'model.h5'));
    const x = readNpyFile(join(REF, 'cnn_same', 'x_nhwc.npy'));
    if (typeof r === 'string') {
      const provider: OrtProvider = name === 'onnxruntime-webgpu' ? 'webgpu' : 'cuda';
      assert.equal(backendChoice()?.used, name);
      assert.equal(ortProvider(), provider);
      const gpu = await OrtExplainer.create(model, { composite: 'epsilon-gamma-box', low: -3, high: 3 });
      const cpu = await OrtExplainer.create(model, { composite: 'epsilon-gamma-box', low: -3, high: 3, provider: 'cpu' });
      const a = (await gpu.explain(x, { target: { type: 'index', index: 0 } })).relevance.data as Float32Array;
      const b = (await cpu.explain(x, { target: { type: 'index', index: 0 } })).relevance.data as Float32Array;
      const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * scale, `cell ${i}: ${a[i]} vs ${b[i]}`);
      await Promise.all([gpu.dispose(), cpu.dispose()]);
    } else {
      assert.equal(r.code, 'BACKEND_UNAVAILABLE');
      assert.match(r.message, WORDING[name]);
      // The failed choice changed nothing: the CPU provider and the earlier backend stay.
      assert.equal(backendChoice()?.used, 'onnxruntime');
      assert.equal(ortProvider(), 'cpu');
      // The CLI says the same, as a structured error (exit 2 with --json in cli.ts).
      await assert.rejects(
        explainCli([join(REF, 'cnn_same', 'model.h5'), '--input', join(REF, 'cnn_same', 'x_nhwc.npy'), '--backend', name, '--out', join(scratchDir('ort-providers'), 'r.npy')]),
        (e: LensError) => e.code === 'BACKEND_UNAVAILABLE' && WORDING[name].test(e.message),
      );
    }
  });
}

/** A runtime whose session creation fails as ONNX Runtime's does without a device, or succeeds. */
function standIn(fail?: string): Ort {
  const session = { run: async () => ({}), release: async () => undefined };
  return {
    InferenceSession: { create: async () => (fail ? Promise.reject(new Error(fail)) : session) },
    Tensor: class {
      constructor(..._a: unknown[]) {}
    },
  } as unknown as Ort;
}

test('the providers\' messages do not depend on the machine: stand-in runtimes without a device, and with one', async () => {
  await assert.rejects(probeProvider('webgpu', standIn('/onnxruntime_src/x.cc:129 lambda() Failed to get a WebGPU adapter: No supported adapters\nmore')), (e: LensError) => e.code === 'BACKEND_UNAVAILABLE' && WORDING['onnxruntime-webgpu'].test(e.message) && /No supported adapters/.test(e.message));
  await assert.rejects(probeProvider('cuda', standIn('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library')), (e: LensError) => e.code === 'BACKEND_UNAVAILABLE' && WORDING['onnxruntime-cuda'].test(e.message) && /Failed to load shared library/.test(e.message));
  await probeProvider('webgpu', standIn());
  await probeProvider('cuda', standIn());
});
