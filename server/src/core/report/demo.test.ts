/**
 * The demo's promise, on the committed samples: every sample model loads in both of its formats, reaches
 * the held-out accuracy the training script reported (recomputed through the same pipeline and test
 * years), and the border-artifact pair behaves as the demo says: the `same`-padding CNN is flagged
 * LRP101 (architecture) and LRP202 (its relevance maps on the project data, a warning), its wrapped `valid` twin is not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SAMPLES } from '../../testing/paths.js';
import { useBackend } from '../backend.js';
import { findEntry, readProject } from '../data/project.js';
import { buildModelInput } from '../data/pipeline.js';
import { loadModel } from '../model/load.js';
import { predict } from '../model/execute.js';
import { accuracyInYears, parseYears } from './accuracy.js';
import { analyzeEntry, entryModelFiles, type ModelAnalysis } from './analyze.js';
import { readMetrics } from './metrics.js';
import { artifactOverlays, modelFigures } from './figures.js';

test('every sample model loads (TF.js and Keras HDF5 alike; the ESN from ONNX) and reaches the held-out accuracy metrics.json reports', { timeout: 600_000 }, async () => {
  await useBackend('wasm');
  const project = await readProject(join(SAMPLES, 'lrp-lens.json'));
  const metrics = await readMetrics(join(SAMPLES, 'models', 'metrics.json'));
  assert.ok(metrics.size > 0, 'samples/models/metrics.json is missing or empty: run npm run samples');
  for (const entry of project.models) {
    const m = metrics.get(entry.name);
    assert.ok(m?.testYears && m.testAccuracy !== undefined, `${entry.name}: no metrics`);
    const files = await entryModelFiles(project, entry);
    // TF.js and Keras HDF5 (tfjs-layers training), or ONNX (the echo state network, written as a PyTorch export).
    assert.ok((files.some((f) => f.endsWith('model.json')) && files.some((f) => f.endsWith('.h5'))) || files.some((f) => f.endsWith('.onnx')), `${entry.name}: ${files.join(', ')}`);
    const graphs = await Promise.all(files.map((f) => loadModel(f)));
    const spec = graphs[0].inputs[0];
    const input = await buildModelInput(entry, spec.fileShape, { fileLayout: spec.fileLayout });
    const acc = accuracyInYears(graphs[0], input, parseYears(m.testYears));
    assert.equal(acc.n, m.testMonths, `${entry.name}: test months`);
    assert.ok(Math.abs(acc.accuracy - m.testAccuracy) <= 1e-3, `${entry.name}: accuracy ${acc.accuracy} vs reported ${m.testAccuracy}`);
    // The other format gives the same outputs on a few samples.
    const per = input.x.shape.slice(1).reduce((a, b) => a * b, 1);
    const x = { shape: [8, ...input.x.shape.slice(1)], data: input.x.data.slice(0, 8 * per), dtype: 'f4' as const };
    const ref = predict(graphs[0], x).data as Float32Array;
    for (const g of graphs.slice(1)) {
      const y = predict(g, x).data as Float32Array;
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(y[i] - ref[i]) <= 1e-5, `${entry.name}: ${g.file} output ${i}: ${y[i]} vs ${ref[i]}`);
    }
  }
});

async function borderPair() {
  await useBackend('wasm');
  const project = await readProject(join(SAMPLES, 'lrp-lens.json'));
  const same = await analyzeEntry(project, findEntry(project, 'cnn_same_maxpool'), { samples: 32 });
  const wrapped = await analyzeEntry(project, findEntry(project, 'cnn_valid_wrap_avgpool'), { samples: 32 });
  return { same, wrapped };
}
let pair: ReturnType<typeof borderPair> | undefined;
const codes = (a: ModelAnalysis, kind: 'staticFindings' | 'mapFindings') => a[kind].map((f) => f.code);

test('the same-padding CNN is flagged LRP101 (static); its wrapped valid twin is not', { timeout: 600_000 }, async () => {
  pair ??= borderPair();
  const { same, wrapped } = await pair;
  assert.ok(codes(same, 'staticFindings').includes('LRP101'), `same: ${codes(same, 'staticFindings')}`);
  assert.ok(!codes(wrapped, 'staticFindings').includes('LRP101'), `wrapped: ${codes(wrapped, 'staticFindings')}`);
});

// LRP202 is judged against the circular-longitude twin (same weights, same samples, zero padding along
// longitude replaced by the columns from the other end): only the padding differs, so the two maps are
// compared line by line at the same cells. A band mean does not separate the pair on ERSSTv5 (about 0.4
// of the interior for both: the quiet border is physics), the outermost longitude line does (zero padding
// leaves it under 3 of the first layer's 5 windows). The wrapped model has no longitude border at all.
test('the same-padding CNN is flagged LRP202 on the project data; its wrapped valid twin is not', { timeout: 600_000 }, async () => {
  pair ??= borderPair();
  const { same, wrapped } = await pair;
  const border = (a: ModelAnalysis) => a.mapFindings.find((f) => f.code === 'LRP202');
  const s = border(same);
  assert.equal(s?.severity, 'warning', `same: ${s?.message ?? 'not flagged'}`);
  assert.match(String(s?.data?.controlName), /circular-longitude twin/);
  // The twin changes longitude only: what it flags are the longitude edges, as deficits.
  const sides = String(s?.data?.sides).split(',');
  assert.ok(sides.length > 0 && sides.every((x) => x === 'left' || x === 'right'), `same: flagged sides ${sides}`);
  assert.ok(sides.every((x) => (s?.data?.[x] as number) < 1), `same: ${s?.message}`);
  const w = border(wrapped);
  assert.notEqual(w?.severity, 'warning', `wrapped: ${w?.message}`);
  // Longitude is periodic for the wrapped model: an information note may judge the latitude edges, never longitude.
  if (w) assert.ok(!/left|right/.test(String(w.data?.sides)), `wrapped: ${w.message}`);
  // The report's artifact figure fills exactly the flagged lines (the edge lines among them), not the whole band.
  const ov = artifactOverlays(same);
  assert.deepEqual(ov.flagged?.map((x) => x.side).sort(), [...sides].sort());
  assert.ok(ov.flaggedStrong && ov.flagged!.every((x) => x.lines.includes(0) && x.lines.length < (same.band ?? 0)), JSON.stringify(ov.flagged));
  const ow = artifactOverlays(wrapped);
  assert.ok(!ow.flaggedStrong || !ow.flagged?.length, JSON.stringify(ow.flagged));
});

// Without the artifact: the LRP202 warning's remedy twin (the circular-longitude twin, same weights) is
// carried with the check's statistic on both maps, and the report draws it beside the model's map.
test('the same-padding CNN\'s LRP202 warning carries its circular-longitude twin, drawn in the report; the wrapped model has none', { timeout: 600_000 }, async () => {
  pair ??= borderPair();
  const { same, wrapped } = await pair;
  const f = same.mapFindings.find((x) => x.code === 'LRP202')!;
  const t = same.twins.find((x) => x.code === 'LRP202');
  assert.ok(t, `twins: ${same.twins.map((x) => x.code)}`);
  assert.match(t.name, /circular-longitude twin/);
  assert.equal(t.statistic, f.data!.ratio);
  assert.equal(t.twinStatistic, f.data!.control);
  assert.equal(t.absShare.length, same.trainedAbs.length);
  assert.ok(t.absShare.some((v, i) => Math.abs(v - same.trainedAbs[i]) > 1e-9), 'the twin\'s map differs');
  assert.ok(!wrapped.twins.some((x) => x.code === 'LRP202'), `wrapped: ${wrapped.twins.map((x) => x.code)}`);
  const figs = await modelFigures(same);
  const fig = figs.find((x) => x.kind === 'remedy' && x.name.endsWith('-remedy-LRP202.png'));
  assert.ok(fig && fig.png.length > 1000, figs.map((x) => x.name).join(', '));
  assert.match(fig.caption, /circular-longitude twin/);
});
