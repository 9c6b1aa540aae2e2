/**
 * Zennit references as the engine tests read them: the shared reference set (../shared/lrp-reference: its
 * index, files and composites), the fixture sets made by a make_reference.py beside them, and the comparison
 * of our relevance with theirs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REF } from './paths.js';
import { readNpyFile as npy, worstRelPerSample } from './arrays.js';
import { toFloat32, type NdArray } from '../core/array.js';
import { loadModel } from '../core/model/load.js';
import type { ModelGraph } from '../core/model/graph.js';
import { LrpExplainer, type ExplainerOptions } from '../core/lrp/engine.js';
import type { EngineMode } from '../core/lrp/linear-rule.js';

/** The z-box bounds and gamma every Zennit reference was made with. */
interface Convention {
  zbox_bounds: [number, number];
  gamma: number;
}

export const referenceIndex = JSON.parse(readFileSync(join(REF, 'index.json'), 'utf8')) as {
  convention: Convention;
  models: Record<string, { relevance: Record<string, unknown> }>;
};

/** Each reference model in three files: ONNX with NCHW input, Keras HDF5 and TF.js with NHWC input. */
export const REFERENCE_FILES: { file: string; layout: 'nchw' | 'nhwc' }[] = [
  { file: 'model.onnx', layout: 'nchw' },
  { file: 'model.h5', layout: 'nhwc' },
  { file: 'tfjs/model.json', layout: 'nhwc' },
];

/** Our composite for a Zennit composite name (relevance_<name>[_<layout>].npy). */
export function compositeFor(name: string, convention: Convention = referenceIndex.convention): ExplainerOptions {
  const [low, high] = convention.zbox_bounds;
  switch (name) {
    case 'epsilon':
    case 'epsilon_1e-6':
      return { composite: 'epsilon', epsilon: 1e-6 };
    case 'epsilon_gamma_box':
      return { composite: 'epsilon-gamma-box', low, high, gamma: convention.gamma };
    case 'epsilon_plus':
    case 'epsilon_alpha2_beta1':
    case 'epsilon_plus_flat':
    case 'epsilon_alpha2_beta1_flat':
      return { composite: name.replace(/_/g, '-') };
    case 'w_square':
      return { composite: 'epsilon', epsilon: 1e-6, ruleMap: [{ kind: 'conv', rule: 'w-square' }] };
    default:
      throw new Error(`no composite mapping for reference ${name}`);
  }
}

/**
 * Worst per-sample relative error of our relevance for `x` against Zennit's `ref` (one-hot at the predicted
 * class); the shape, the predicted classes and their logits must match Zennit's first (`label` names the case).
 */
export function zennitRelevanceError(
  graph: ModelGraph,
  options: ExplainerOptions,
  x: NdArray,
  ref: NdArray,
  want: { targets: ArrayLike<number>; logits: Float32Array },
  label: string,
): number {
  const ex = new LrpExplainer(graph, options);
  try {
    const e = ex.explain(x, { target: { type: 'predicted' }, init: 'onehot' });
    assert.deepEqual(e.relevance.shape, ref.shape, `${label}: shape`);
    assert.deepEqual(e.targets.map((t) => t.index), Array.from(want.targets), `${label}: targets`);
    const k = e.output.shape[1];
    e.targets.forEach((t, s) => assert.ok(Math.abs(t.value - want.logits[s * k + t.index]) < 1e-4, `${label}: logit ${s}`));
    return worstRelPerSample(e.relevance.data as Float32Array, toFloat32(ref), x.shape[0]);
  } finally {
    ex.dispose();
  }
}

/**
 * Every model and composite of a fixture set made by a make_reference.py (index.json; per model model.onnx,
 * x, target, logits and relevance_<composite>.npy) against our relevance in `mode`: one row per case, the
 * cases over 1e-4, and how many were checked.
 */
export async function compareZennitFixtures(dir: string, mode: EngineMode): Promise<{ rows: string[]; failures: string[]; checked: number }> {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Convention & {
    models: Record<string, Record<string, number[]>>;
  };
  const rows: string[] = [];
  const failures: string[] = [];
  let checked = 0;
  for (const [model, comps] of Object.entries(index.models)) {
    const modelDir = join(dir, model);
    const graph = await loadModel(join(modelDir, 'model.onnx'));
    const x = npy(join(modelDir, 'x.npy'));
    const want = { targets: toFloat32(npy(join(modelDir, 'target.npy'))), logits: toFloat32(npy(join(modelDir, 'logits.npy'))) };
    for (const comp of Object.keys(comps)) {
      const ref = npy(join(modelDir, `relevance_${comp}.npy`));
      const err = zennitRelevanceError(graph, { ...compositeFor(comp, index), mode }, x, ref, want, `${model} ${comp}`);
      rows.push(`${model} ${comp}: ${err.toExponential(2)}`);
      if (!(err <= 1e-4)) failures.push(`${model} ${comp} (${mode}): ${err}`);
      checked++;
    }
  }
  return { rows, failures, checked };
}
