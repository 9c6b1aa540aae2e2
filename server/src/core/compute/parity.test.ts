/**
 * Backend parity: relevance on ../shared/lrp-reference (every model, every composite, all three files) on
 * another backend equals the default wasm backend's within 1e-4 of max |R| per sample, and Zennit's within
 * the same bound. The other backends run in a pool worker (the same engine code and kernels).
 * Default: cpu, plus every GPU backend that starts here. LRP_LENS_PARITY_BACKENDS=webgpu,tensorflow-gpu
 * (scripts/gpu-check.sh) makes the listed ones required: one that cannot start fails the test.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REF } from '../../testing/paths.js';
import { toFloat32 } from '../array.js';
import { readNpyFile as npy, worstRelPerSample as relError } from '../../testing/arrays.js';
import { REFERENCE_FILES as FILES, compositeFor, referenceIndex as index } from '../../testing/lrp-reference.js';
import { loadModel } from '../model/load.js';
import { type BackendName, GPU_BACKENDS, useBackend } from '../backend.js';
import { LrpExplainer } from '../lrp/engine.js';
import { LrpPool } from './lrp-pool.js';

const required = process.env.LRP_LENS_PARITY_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean) as BackendName[] | undefined;
const pools: LrpPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

/** The backends to compare: the required list, or cpu plus the GPU backends that start in a worker. */
async function backends(graphFile: string): Promise<BackendName[]> {
  if (required) return required;
  const list: BackendName[] = ['cpu'];
  const graph = await loadModel(graphFile);
  for (const b of GPU_BACKENDS) {
    const pool = await LrpPool.create(graph, {}, { workers: 1, backend: b }).catch(() => undefined);
    if (pool) {
      list.push(b);
      await pool.close();
    }
  }
  return list;
}

test('every backend gives the wasm relevance (and Zennit\'s) within 1e-4 on the reference models', async () => {
  await useBackend('wasm');
  const list = await backends(join(REF, 'mlp', 'model.h5'));
  const rows: string[] = [];
  let checked = 0;
  for (const backend of list) {
    for (const [model, info] of Object.entries(index.models)) {
      const dir = join(REF, model);
      for (const { file, layout } of FILES) {
        const graph = await loadModel(join(dir, file));
        const x = npy(join(dir, `x_${layout}.npy`));
        for (const comp of Object.keys(info.relevance)) {
          const opts = compositeFor(comp);
          const ex = new LrpExplainer(graph, opts);
          const want = ex.explain(x, { target: { type: 'predicted' }, init: 'onehot' });
          ex.dispose();
          const pool = await LrpPool.create(graph, opts, { workers: 1, backend });
          pools.push(pool);
          assert.equal(pool.backend, backend === 'tensorflow-gpu' ? 'tensorflow' : backend);
          const got = await pool.explain(x, { target: { type: 'predicted' }, init: 'onehot' });
          await pool.close();
          pools.pop();
          const ref = toFloat32(npy(join(dir, `relevance_${comp}_${layout}.npy`)));
          const vsWasm = relError(got.relevance.data as Float32Array, want.relevance.data as Float32Array, x.shape[0]);
          const vsZennit = relError(got.relevance.data as Float32Array, ref, x.shape[0]);
          rows.push(`${backend} ${model}/${file} ${comp}: vs wasm ${vsWasm.toExponential(2)}, vs Zennit ${vsZennit.toExponential(2)}`);
          assert.deepEqual(got.targets.map((t) => t.index), want.targets.map((t) => t.index), `${backend} ${model}/${file}: targets`);
          assert.ok(vsWasm <= 1e-4, `${backend} ${model}/${file} ${comp}: ${vsWasm} vs wasm`);
          assert.ok(vsZennit <= 1e-4, `${backend} ${model}/${file} ${comp}: ${vsZennit} vs Zennit`);
          checked++;
        }
      }
    }
  }
  console.log(`parity:\n  ${rows.join('\n  ')}`);
  assert.equal(checked, 18 * list.length);
});
