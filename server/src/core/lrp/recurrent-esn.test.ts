/**
 * Relevance through leaky echo state networks (the torch-exported ESN fixtures, folded into one Recurrent
 * layer with a leak) and a = 1 loops, against the float64 reference of fixtures/esn-lrp/make_esn_lrp.py,
 * written from the rules' equations: lstm-epsilon (the default: the state sum split in proportion to its
 * two terms), lstm-conservative, and esn (Landt-Hayen et al. 2022: z+ without biases, the state's relevance
 * split a : (1 - a)), and lstm-gradient-x-input (the reference's gradient by the complex step). Per sample: max |R - R_ref| <= 1e-4 max |R_ref| (as recurrent.test.ts). Also what each does to conservation.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../backend.js';
import { toFloat32 } from '../array.js';
import { readNpyFile, worstRelPerSample } from '../../testing/arrays.js';
import { REPO } from '../../testing/paths.js';
import { loadModel } from '../model/load.js';
import { explainGraph } from './engine.js';

const HERE = join(REPO, 'server/src/core/lrp/fixtures/esn-lrp');
const FIX = join(REPO, 'server/src/core/model/formats/fixtures/esn-onnx');

interface Case {
  name: string;
  a: number;
  target: number;
  rules: Record<string, { file: string; conservation: number; kept?: [number, number] }>;
}
const index = JSON.parse(readFileSync(join(HERE, 'index.json'), 'utf8')) as { epsilon: number; cases: Case[] };

before(async () => {
  await useBackend('wasm');
});

test('ESN relevance matches the float64 reference: lstm-epsilon, lstm-conservative, esn and gradient x input, leaky and a = 1', async () => {
  const rows: string[] = [];
  let checked = 0;
  for (const c of index.cases) {
    const g = await loadModel(join(FIX, `${c.name}.onnx`));
    const x = readNpyFile(join(FIX, `${c.name}.x.npy`));
    for (const [rule, ref] of Object.entries(c.rules)) {
      const ruleMap = rule === 'lstm-epsilon' ? [] : [{ kind: 'Recurrent', rule }];
      const e = explainGraph(g, x, { composite: 'epsilon', epsilon: index.epsilon, ruleMap, target: { type: 'index', index: c.target }, init: 'onehot' });
      const rec = e.layers.find((l) => l.kind === 'Recurrent');
      assert.ok(rec?.rule.startsWith(rule), `${c.name}: rule ${rec?.rule}`);
      const want = readNpyFile(join(HERE, ref.file));
      assert.deepEqual(e.relevance.shape, want.shape);
      const err = worstRelPerSample(e.relevance.data as Float32Array, toFloat32(want), x.shape[0]);
      rows.push(`${c.name} (a = ${c.a.toFixed(2)}) ${rule}: ${err.toExponential(2)}`);
      assert.ok(err <= 1e-4, `${c.name} ${rule}: ${err}`);
      checked++;
    }
  }
  console.log(`ESN relevance vs reference (worst per-sample max |R - R_ref| / max |R_ref|):\n  ${rows.join('\n  ')}`);
  assert.equal(checked, 16);
});

test('lstm-uniform on a leaky simple cell (no gate products) is lstm-epsilon', async () => {
  const c = index.cases.find((k) => k.a < 1)!;
  const g = await loadModel(join(FIX, `${c.name}.onnx`));
  const x = readNpyFile(join(FIX, `${c.name}.x.npy`));
  const e = explainGraph(g, x, { composite: 'epsilon', epsilon: index.epsilon, ruleMap: [{ kind: 'Recurrent', rule: 'lstm-uniform' }], target: { type: 'index', index: c.target }, init: 'onehot' });
  const want = readNpyFile(join(HERE, c.rules['lstm-epsilon'].file));
  assert.ok(worstRelPerSample(e.relevance.data as Float32Array, toFloat32(want), x.shape[0]) <= 1e-4);
});

test('conservation: lstm-conservative keeps exactly what reaches the reservoir; esn keeps a share, losing the zero state\'s and empty z+ sums', async () => {
  for (const c of index.cases) {
    // The reference's own figures: conservative exact in float64; esn keeps at most about all of it.
    assert.ok(c.rules['lstm-conservative'].conservation < 1e-6, c.name);
    const [lo, hi] = c.rules.esn.kept!;
    assert.ok(lo > 0 && lo < 1 && hi < 1.01, `${c.name}: esn kept ${lo}..${hi}`);
    const g = await loadModel(join(FIX, `${c.name}.onnx`));
    const x = readNpyFile(join(FIX, `${c.name}.x.npy`));
    const e = explainGraph(g, x, { composite: 'epsilon', epsilon: index.epsilon, ruleMap: [{ kind: 'Recurrent', rule: 'lstm-conservative' }], target: { type: 'index', index: c.target }, init: 'onehot' });
    const out = e.layers.find((l) => l.kind === 'Recurrent')!.relevanceSum;
    const per = e.relevance.data.length / x.shape[0];
    out.forEach((r, s) => {
      const row = Array.from(e.relevance.data.subarray(s * per, (s + 1) * per) as Float32Array);
      const scale = Math.max(Math.abs(r), row.reduce((p, q) => p + Math.abs(q), 0));
      const err = Math.abs(row.reduce((p, q) => p + q, 0) - r) / scale;
      assert.ok(err < 1e-5, `${c.name} sample ${s}: conservation ${err}`);
    });
  }
});
