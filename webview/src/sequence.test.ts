/**
 * The sequence view's data on real recurrent explanations: the LRP engine on the LSTM fixture (6 steps,
 * 3 features) and on the real sunspot LSTM (Conv1D + three LSTMs, 12 steps), against the float64
 * reference of server/src/core/lrp/fixtures/recurrent-lrp (make_reference.py).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REAL, REPO } from '../../server/src/testing/paths.js';
import { readNpyFile } from '../../server/src/testing/arrays.js';
import { toFloat32 } from '../../server/src/core/array.js';
import { useBackend } from '../../server/src/core/backend.js';
import { loadModel } from '../../server/src/core/model/load.js';
import { explainGraph } from '../../server/src/core/lrp/engine.js';
import { decode } from './decode.js';
import { encodeFloat32, type PanelResult } from './messages.js';
import { sequenceAxes, sequenceMaps, stepRelevance, summarizeSteps } from './sequence.js';

const LRP_REF = join(REPO, 'server/src/core/lrp/fixtures/recurrent-lrp');
const FIX = join(REPO, 'server/src/core/model/formats/fixtures/recurrent');
const index = JSON.parse(readFileSync(join(LRP_REF, 'index.json'), 'utf8')) as { epsilon: number; cases: { name: string; target: number }[] };

const CASES = [
  { name: 'lstm', model: join(FIX, 'lstm.h5'), x: join(FIX, 'lstm.x.npy') },
  { name: 'sunspot', model: join(REAL, 'sunspot-lstm', 'rnn_model.h5'), x: join(LRP_REF, 'sunspot12.x.npy') },
];

before(async () => {
  await useBackend('wasm');
});

/** The engine's explanation as the server sends it to the panel. */
async function explained(c: (typeof CASES)[number]) {
  const g = await loadModel(c.model);
  const x = readNpyFile(c.x);
  const target = index.cases.find((k) => k.name === c.name)!.target;
  const e = explainGraph(g, x, { composite: 'epsilon', epsilon: index.epsilon, ruleMap: [], target: { type: 'index', index: target }, init: 'onehot' });
  const rel = e.relevance.data as Float32Array;
  const result: PanelResult = {
    jobId: 'test', model: c.model, composite: { name: 'epsilon' }, target: e.targets.map((t) => t.index),
    samples: e.targets.map((_, i) => i), relevance: encodeFloat32(rel, e.relevance.shape),
    input: encodeFloat32(toFloat32(x), x.shape),
    conservation: { outputRelevance: e.targets.map(() => 1), inputRelevance: e.relevanceSum, relativeError: [], maxRelativeError: 0 },
    backend: 'wasm', durationMs: 0, cached: false, layout: e.layout,
  };
  return { result, rel, shape: e.relevance.shape, sums: e.relevanceSum, ref: toFloat32(readNpyFile(join(LRP_REF, `${c.name}.epsilon.npy`))) };
}

test('a recurrent explanation is decoded as features x time maps whose per-step sums match the float64 reference', async () => {
  for (const c of CASES) {
    const { result, rel, shape, sums, ref } = await explained(c);
    const [n, T, F] = shape;
    const s = decode(result);
    assert.deepEqual(s.seq, { steps: T, features: F, layout: 'NWC' }, c.name);
    assert.deepEqual([s.rel.n, s.rel.height, s.rel.width], [n, F, T], `${c.name}: one row per feature, one column per step`);
    for (let k = 0; k < n; k++) {
      for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) assert.equal(s.rel.maps[k][f * T + t], rel[(k * T + t) * F + f]);
      // The inputs are laid out as the relevance is, cell for cell.
      assert.equal(s.inp!.maps[k].length, T * F);
      const steps = stepRelevance(s.rel.maps[k], T, F);
      // Against the reference, the engine is within 1e-4 of max |R_ref| per cell (recurrent.test.ts): a
      // step sums F cells.
      let refMax = 0;
      for (let i = 0; i < T * F; i++) refMax = Math.max(refMax, Math.abs(ref[k * T * F + i]));
      for (let t = 0; t < T; t++) {
        let want = 0;
        for (let f = 0; f < F; f++) want += ref[(k * T + t) * F + f];
        assert.ok(Math.abs(steps[t] - want) <= F * 1e-4 * refMax, `${c.name} sample ${k} step ${t}: ${steps[t]} vs reference ${want}`);
      }
      // The steps together hold the relevance the engine reports at the input.
      const total = steps.reduce((a, b) => a + b, 0);
      let absSum = 0;
      for (let i = 0; i < T * F; i++) absSum += Math.abs(rel[k * T * F + i]);
      assert.ok(Math.abs(total - sums[k]) <= 1e-6 * Math.max(1, absSum), `${c.name} sample ${k}: Σ steps ${total} vs engine ${sums[k]}`);
    }
  }
});

test('channels-first sequences (NCW) give the same maps as channels-last (NWC)', async () => {
  const { rel, shape } = await explained(CASES[0]);
  const [n, T, F] = shape;
  const ncw = new Float32Array(rel.length);
  for (let k = 0; k < n; k++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) ncw[(k * F + f) * T + t] = rel[(k * T + t) * F + f];
  const a = sequenceMaps(rel, [n, T, F], sequenceAxes([n, T, F], 'NWC')!);
  const b = sequenceMaps(ncw, [n, F, T], sequenceAxes([n, F, T], 'NCW')!);
  assert.deepEqual([b.height, b.width], [a.height, a.width]);
  for (let k = 0; k < n; k++) assert.deepEqual(Array.from(b.maps[k]), Array.from(a.maps[k]));
});

test('only rank-3 batches in a 1-D layout without lat/lon are sequences', async () => {
  assert.equal(sequenceAxes([2, 16, 32, 1], 'NHWC'), undefined);
  assert.equal(sequenceAxes([2, 16, 32], 'NHWC'), undefined);
  assert.equal(sequenceAxes([2, 64], 'NC'), undefined);
  assert.equal(sequenceAxes([2, 6, 3], undefined), undefined);
  const { result } = await explained(CASES[0]);
  // A field the server gives coordinates for stays a map (rows = lat), whatever its rank.
  const geo = decode({ ...result, coords: { lat: [0, 1, 2, 3, 4, 5], lon: [0, 1, 2] } });
  assert.equal(geo.seq, undefined);
  assert.deepEqual([geo.rel.height, geo.rel.width], [6, 3]);
});

test('step summary: total, the step with the largest |sum| and the last quarter\'s share', () => {
  const s = summarizeSteps([1, -3, 2, 0.5, 0, -0.5, 1, 2]);
  assert.equal(s.total, 3);
  assert.equal(s.peak, 1);
  assert.equal(s.peakValue, -3);
  // Last quarter = steps 6 and 7: (1 + 2) / 10.
  assert.equal(s.lastQuarterShare, 3 / 10);
});
