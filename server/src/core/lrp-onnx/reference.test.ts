/**
 * The ONNX Runtime engine against Zennit 0.5.1: every file of ../shared/lrp-reference (ONNX with NCHW input,
 * Keras HDF5 and TF.js with NHWC input, three composites) and every composite of the residual, BatchNorm
 * and average-pool fixtures (lrp/fixtures/zennit-archs), with the tfjs engine's tolerance
 * (reference.test.ts): per sample max |R - R_ref| <= 1e-4 * max |R_ref|. The same cases run on the tfjs
 * engine must agree with the ORT engine to that tolerance too.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REF, REPO } from '../../testing/paths.js';
import { readNpyFile as npy, worstRelPerSample } from '../../testing/arrays.js';
import { REFERENCE_FILES, compositeFor, referenceIndex } from '../../testing/lrp-reference.js';
import { toFloat32, type NdArray } from '../array.js';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { ModelGraph } from '../model/graph.js';
import { LrpExplainer, type ExplainerOptions } from '../lrp/engine.js';
import { OrtExplainer } from './ort-explainer.js';
import { probeProvider, setOrtProvider } from './ort-providers.js';

const ARCHS = join(REPO, 'server', 'src', 'core', 'lrp', 'fixtures', 'zennit-archs');

before(async () => {
  await useBackend('wasm');
  // scripts/gpu-check.sh runs these cases on a GPU provider (webgpu, cuda): the same tolerances.
  const p = process.env.LRP_LENS_PARITY_ORT_PROVIDER;
  if (p === 'webgpu' || p === 'cuda') {
    await probeProvider(p);
    setOrtProvider(p);
  }
});

interface Case {
  label: string;
  graph: ModelGraph;
  options: ExplainerOptions;
  x: NdArray;
  ref: NdArray;
  targets: Float32Array;
  logits: Float32Array;
}

/** ORT's worst per-sample error against Zennit, and against the tfjs engine, after checking targets and logits. */
async function compare(c: Case): Promise<{ zennit: number; tfjs: number }> {
  const ex = await OrtExplainer.create(c.graph, c.options);
  try {
    const e = await ex.explain(c.x, { target: { type: 'predicted' }, init: 'onehot' });
    assert.deepEqual(e.relevance.shape, c.ref.shape, `${c.label}: shape`);
    assert.deepEqual(e.targets.map((t) => t.index), Array.from(c.targets), `${c.label}: targets`);
    const k = e.output.shape[1];
    e.targets.forEach((t, s) => assert.ok(Math.abs(t.value - c.logits[s * k + t.index]) < 1e-4, `${c.label}: logit ${s}`));
    const tf = new LrpExplainer(c.graph, c.options);
    try {
      const t = tf.explain(c.x, { target: { type: 'predicted' }, init: 'onehot' });
      // The per-layer sums are the same report on both engines.
      assert.deepEqual(e.layers.map((l) => l.name), t.layers.map((l) => l.name), `${c.label}: layer list`);
      e.layers.forEach((l, i) => l.relevanceSum.forEach((v, s) => assert.ok(Math.abs(v - t.layers[i].relevanceSum[s]) <= 1e-3 * Math.max(1, Math.abs(v)), `${c.label}: sum at ${l.name}`)));
      return {
        zennit: worstRelPerSample(e.relevance.data as Float32Array, toFloat32(c.ref), c.x.shape[0]),
        tfjs: worstRelPerSample(e.relevance.data as Float32Array, t.relevance.data as Float32Array, c.x.shape[0]),
      };
    } finally {
      tf.dispose();
    }
  } finally {
    await ex.dispose();
  }
}

test('ORT relevance matches Zennit for every shared reference file and agrees with the tfjs engine', async () => {
  const rows: string[] = [];
  const failures: string[] = [];
  let checked = 0;
  for (const [model, info] of Object.entries(referenceIndex.models)) {
    const dir = join(REF, model);
    const targets = toFloat32(npy(join(dir, 'target.npy')));
    const logits = toFloat32(npy(join(dir, 'logits.npy')));
    for (const { file, layout } of REFERENCE_FILES) {
      const graph = await loadModel(join(dir, file));
      const x = npy(join(dir, `x_${layout}.npy`));
      for (const comp of Object.keys(info.relevance)) {
        const ref = npy(join(dir, `relevance_${comp}_${layout}.npy`));
        const label = `${model}/${file} ${comp}`;
        const err = await compare({ label, graph, options: compositeFor(comp), x, ref, targets, logits });
        rows.push(`${label}: zennit ${err.zennit.toExponential(2)}, tfjs ${err.tfjs.toExponential(2)}`);
        if (!(err.zennit <= 1e-4) || !(err.tfjs <= 1e-4)) failures.push(`${label}: ${JSON.stringify(err)}`);
        checked++;
      }
    }
  }
  console.log(`ORT reference:\n  ${rows.join('\n  ')}`);
  assert.deepEqual(failures, []);
  assert.equal(checked, 18);
});

test('ORT relevance matches Zennit on the residual, BatchNorm and average-pool fixtures under every composite', async () => {
  const index = JSON.parse(readFileSync(join(ARCHS, 'index.json'), 'utf8')) as { zbox_bounds: [number, number]; gamma: number; models: Record<string, Record<string, number[]>> };
  const rows: string[] = [];
  const failures: string[] = [];
  let checked = 0;
  for (const [model, comps] of Object.entries(index.models)) {
    const dir = join(ARCHS, model);
    const graph = await loadModel(join(dir, 'model.onnx'));
    const x = npy(join(dir, 'x.npy'));
    const targets = toFloat32(npy(join(dir, 'target.npy')));
    const logits = toFloat32(npy(join(dir, 'logits.npy')));
    for (const comp of Object.keys(comps)) {
      const label = `${model} ${comp}`;
      const err = await compare({ label, graph, options: compositeFor(comp, index), x, ref: npy(join(dir, `relevance_${comp}.npy`)), targets, logits });
      rows.push(`${label}: zennit ${err.zennit.toExponential(2)}, tfjs ${err.tfjs.toExponential(2)}`);
      if (!(err.zennit <= 1e-4) || !(err.tfjs <= 1e-4)) failures.push(`${label}: ${JSON.stringify(err)}`);
      checked++;
    }
  }
  console.log(`ORT zennit archs:\n  ${rows.join('\n  ')}`);
  assert.deepEqual(failures, []);
  assert.equal(checked, 30);
});
