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
import {
  DEFAULT_SEQUENCE_TOGGLES, axesFromInfo, barScale, curveInBarUnits, sequenceAxes, sequenceMapMarks, sequenceMaps, sequenceOverlays,
  sequenceToggles, stepRelevance, summarizeSteps,
} from './sequence.js';
import { findEntry, readProject } from '../../server/src/core/data/project.js';
import { explain, openSession } from '../../server/src/core/session/session.js';
import { explainResult } from '../../server/src/lsp/explain-job.js';
import { SAMPLES } from '../../server/src/testing/paths.js';
import { measureRecurrent } from '../../samples/benchmark/recurrent-cases.js';
import { parseToWebview, type FindingSummary } from './messages.js';

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

test('the server\'s sequence field decides: the ESN sample fed ERSSTv5 column by column is a 24 x 72 feature x time map and, on the globe, the same values on the lat x lon grid', async () => {
  const file = join(SAMPLES, 'models/esn_columns/model.onnx');
  const project = await readProject(join(SAMPLES, 'lrp-lens.json'));
  const entry = findEntry(project, file);
  const session = await openSession({ model: await loadModel(file), data: { kind: 'project', project, entry }, entry });
  const e = await explain(session, { maxSamples: 2 });
  const result = { ...explainResult(session, e, { file, params: { model: file } }, 'wasm', Date.now()), jobId: 'test', cached: false } as PanelResult;
  const s = decode(result);
  assert.deepEqual(s.seq, { steps: 72, features: 24, layout: 'NWC' });
  assert.deepEqual([s.rel.height, s.rel.width], [24, 72]);
  const g = s.globe!;
  assert.ok(g && g.geo, 'the globe view has a geographic frame');
  assert.deepEqual([g.rel.n, g.rel.height, g.rel.width], [2, 24, 72]);
  assert.equal(g.seq, undefined);
  // Fed along lon without reversal, features = lat: the feature x time map is the lat x lon map.
  for (let k = 0; k < 2; k++) assert.deepEqual(Array.from(g.rel.maps[k]), Array.from(s.rel.maps[k]));
  // The page accepts the field from the host, and refuses a malformed one.
  const msg = (r: unknown) => parseToWebview({ type: 'result', requestId: 'r1', purpose: 'main', result: r });
  assert.ok(msg(result), 'a well-formed sequence field');
  assert.equal(msg({ ...result, sequence: { ...result.sequence, steps: -1 } }), undefined);
  assert.equal(msg({ ...result, sequence: { ...result.sequence, toGrid: { ...result.sequence!.toGrid, relevance: { shape: [1], base64: 7 } } } }), undefined);
  // Without the field (an older server), rank-3 NWC is still read as a sequence, but there is no globe.
  const old = decode({ ...result, sequence: undefined });
  assert.deepEqual(old.seq, s.seq);
  assert.equal(old.globe, undefined);
});

test('the sequence field names the axes: a channels-first sequence (time on axis 2), and a field that does not fit the shape is ignored', () => {
  assert.deepEqual(axesFromInfo({ timeAxis: 2, featureAxis: 1, steps: 12, features: 3, recurrent: true }, [4, 3, 12]), { steps: 12, features: 3, layout: 'NCW' });
  assert.equal(axesFromInfo({ timeAxis: 1, featureAxis: 2, steps: 12, features: 3, recurrent: true }, [4, 3, 12]), undefined);
  assert.equal(axesFromInfo({ timeAxis: 1, featureAxis: 2, steps: 12, features: 3, recurrent: true }, [4, 36]), undefined);
});

/** Findings as they reach the panel: through JSON (an infinite half-life arrives as null). */
const wire = (fs: unknown[]): FindingSummary[] => JSON.parse(JSON.stringify(fs)) as FindingSummary[];

test('overlays from the recurrent checks\' findings on the benchmark models: LRP212 profile, LRP213 faded steps and fitted curve, LRP215 zero step, LRP216 both orders\' maps', async () => {
  await useBackend('wasm');
  const short = await measureRecurrent({ variant: 'rnn-short', composite: 'epsilon' }, 2, 8);
  const fs = wire(short.findings);
  const lrp213 = fs.find((f) => f.code === 'LRP213')!;
  assert.ok(lrp213 && fs.some((f) => f.code === 'LRP212'), 'the short-memory RNN has stripes and fading memory');
  const T = lrp213.data!.steps as number;
  const ov = sequenceOverlays(fs, { steps: T, features: 16 });
  assert.deepEqual(ov.stripes!.profile, fs.find((f) => f.code === 'LRP212')!.data!.profile);
  assert.deepEqual(ov.fading!.faded, lrp213.data!.faded);
  assert.equal(ov.fading!.faded.length, lrp213.data!.fadedSteps);
  // The curve decays from the last step at the fitted half-life.
  const hl = ov.fading!.halfLife;
  assert.ok(Number.isFinite(hl) && hl > 0);
  assert.ok(Math.abs(ov.fading!.curve[T - 2] / ov.fading!.curve[T - 1] - 2 ** (-1 / hl)) < 1e-12);
  // Findings about another sequence length do not draw.
  assert.equal(sequenceOverlays(fs, { steps: T + 1, features: 16 }).fading, undefined);

  const cropped = wire((await measureRecurrent({ variant: 'lstm-cropped', composite: 'epsilon' }, 2, 8)).findings);
  assert.deepEqual(sequenceOverlays(cropped, { steps: T, features: 16 }).zeroSteps.map((z) => z.step), [0]);

  const fwd = wire((await measureRecurrent({ variant: 'lstm-forget+3', composite: 'epsilon' }, 2, 8)).findings);
  const lrp216 = fwd.find((f) => f.code === 'LRP216')!;
  const rev = sequenceOverlays(fwd, { steps: T, features: 16 }).reversed!;
  assert.equal(rev.accuracy, lrp216.data!.accuracy);
  assert.equal(rev.reversedAccuracy, lrp216.data!.reversedAccuracy);
  // The finding's (time, features) maps become the view's features x time maps.
  const own = lrp216.data!.meanMap as number[];
  for (let t = 0; t < T; t++) for (let f = 0; f < 16; f++) assert.equal(rev.own[f * T + t], Math.fround(own[t * 16 + f]));
});

test('the fitted curve in bar units and the bar chart\'s scale', () => {
  // Shares 0.5/0.3/0.2 of a sample whose bars total |Σ| 10, signed negative overall.
  assert.deepEqual(Array.from(curveInBarUnits([0.5, 0.3, 0.2], [-6, -2, -2])), [-5, -3, -2]);
  const y = barScale([2, -1, 0]);
  assert.equal(y(2), 8);
  assert.equal(y(-1), 110);
  assert.equal(y(0), 8 + (2 / 3) * 102);
  assert.equal(y(5), 8, 'values past the bars clip at the top');
});

test('the overlays on the time x feature map: faded steps merged into shaded runs, the zero step outlined, the feeding arrow; each only when on', async () => {
  await useBackend('wasm');
  const short = wire((await measureRecurrent({ variant: 'rnn-short', composite: 'epsilon' }, 2, 8)).findings);
  const T = short.find((f) => f.code === 'LRP213')!.data!.steps as number;
  const ov = sequenceOverlays(short, { steps: T, features: 16 });
  const W = 640, cw = W / T;
  const m = sequenceMapMarks(ov, DEFAULT_SEQUENCE_TOGGLES, T, W);
  // The runs cover exactly the faded steps, each a contiguous block of whole columns.
  const covered = m.shaded.flatMap((s) => Array.from({ length: s.to - s.from + 1 }, (_, i) => s.from + i));
  assert.deepEqual(covered, [...ov.fading!.faded].sort((a, b) => a - b));
  for (const s of m.shaded) {
    assert.ok(Math.abs(s.x - s.from * cw) < 1e-9 && Math.abs(s.w - (s.to - s.from + 1) * cw) < 1e-9, JSON.stringify(s));
  }
  for (let i = 1; i < m.shaded.length; i++) assert.ok(m.shaded[i].from > m.shaded[i - 1].to + 1, 'runs are maximal');
  assert.deepEqual(m.arrow, { label: 'time' }, 'a benchmark sequence is not a field: no dim to name');
  assert.deepEqual(m.outlined, []);
  const off = sequenceMapMarks(ov, { ...DEFAULT_SEQUENCE_TOGGLES, fading: false, feeding: false }, T, W);
  assert.deepEqual([off.shaded, off.arrow], [[], undefined]);

  const cropped = wire((await measureRecurrent({ variant: 'lstm-cropped', composite: 'epsilon' }, 2, 8)).findings);
  const z = sequenceMapMarks(sequenceOverlays(cropped, { steps: T, features: 16 }), DEFAULT_SEQUENCE_TOGGLES, T, W);
  assert.deepEqual(z.outlined, [{ x: 0, w: cw, from: 0, to: 0 }]);
  assert.deepEqual(sequenceMapMarks(sequenceOverlays(cropped, { steps: T, features: 16 }), { ...DEFAULT_SEQUENCE_TOGGLES, zero: false }, T, W).outlined, []);
  // A field fed along a named dim says so on the arrow.
  assert.deepEqual(sequenceMapMarks({ zeroSteps: [], stripes: { timeDim: 'lon', profile: [], message: '' } }, DEFAULT_SEQUENCE_TOGGLES, T, W).arrow, { label: "fed along 'lon'" });
});

test('the overlay toggles from a kept panel state: kept booleans win, anything missing or malformed falls back to the default', () => {
  assert.deepEqual(sequenceToggles(undefined), DEFAULT_SEQUENCE_TOGGLES);
  assert.deepEqual(sequenceToggles('on'), DEFAULT_SEQUENCE_TOGGLES);
  assert.deepEqual(sequenceToggles({ fading: false, reversed: true }), { feeding: true, fading: false, zero: true, reversed: true });
  assert.deepEqual(sequenceToggles({ fading: 0, zero: 'no', extra: true }), DEFAULT_SEQUENCE_TOGGLES);
  // The default is not shared with the results.
  const t = sequenceToggles(undefined);
  t.feeding = false;
  assert.equal(DEFAULT_SEQUENCE_TOGGLES.feeding, true);
});
