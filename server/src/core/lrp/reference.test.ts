/**
 * The engine against Zennit 0.5.1 (../shared/lrp-reference): every relevance file, for all three files of
 * each model (ONNX with NCHW input, Keras HDF5 and TF.js with NHWC input). Per sample:
 * max |R - R_ref| <= 1e-4 * max |R_ref|. Both engine modes (fused fast path and per-pass tf.grad) and the
 * default wasm backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REF } from '../../testing/paths.js';
import { toFloat32 } from '../array.js';
import { readNpyFile as npy } from '../../testing/arrays.js';
import { REFERENCE_FILES as FILES, compositeFor, referenceIndex as index, zennitRelevanceError } from '../../testing/lrp-reference.js';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { EngineMode } from './linear-rule.js';
import type { ModelGraph } from '../model/graph.js';

for (const mode of ['fast', 'grad'] as EngineMode[]) {
  test(`relevance matches Zennit for every reference file (mode ${mode}, wasm)`, async () => {
    await useBackend('wasm');
    const rows: string[] = [];
    const failures: string[] = [];
    let checked = 0;
    for (const [model, info] of Object.entries(index.models)) {
      const dir = join(REF, model);
      const targets = toFloat32(npy(join(dir, 'target.npy')));
      const logits = toFloat32(npy(join(dir, 'logits.npy')));
      for (const { file, layout } of FILES) {
        assert.ok(existsSync(join(dir, file)), `${model}/${file} missing`);
        let graph: ModelGraph;
        try {
          graph = await loadModel(join(dir, file));
        } catch (e) {
          failures.push(`${model}/${file}: ${(e as Error).message}`);
          continue;
        }
        const x = npy(join(dir, `x_${layout}.npy`));
        for (const comp of Object.keys(info.relevance)) {
          const ref = npy(join(dir, `relevance_${comp}_${layout}.npy`));
          try {
            const options = { ...compositeFor(comp), mode };
            const err = zennitRelevanceError(graph, options, x, ref, { targets, logits }, `${model}/${file} ${comp}`);
            rows.push(`${model}/${file} ${comp}: ${err.toExponential(2)}`);
            if (!(err <= 1e-4)) failures.push(`${model}/${file} ${comp} (${mode}): max per-sample relative error ${err}`);
            checked++;
          } catch (e) {
            failures.push(`${model}/${file} ${comp}: ${(e as Error).message}`);
          }
        }
      }
    }
    console.log(`reference (${mode}):\n  ${rows.join('\n  ')}`);
    assert.deepEqual(failures, []);
    assert.equal(checked, 18);
  });
}
