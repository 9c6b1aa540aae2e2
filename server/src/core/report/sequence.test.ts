import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SAMPLES } from '../../testing/paths.js';
import { useBackend } from '../backend.js';
import { findEntry, readProject } from '../data/project.js';
import { buildModelInput } from '../data/pipeline.js';
import { batchToGrid, displayGrid } from '../session/data-grid.js';
import { fitFadingMemory, sequenceAxis, sequenceView } from './sequence.js';
import { sequenceOf } from './sequence-report.js';
import { analyzeEntry } from './analyze.js';
import { boxWeights, NINO34 } from './regions.js';

const range = (a: number, b: number, step: number): number[] => Array.from({ length: Math.round((b - a) / step) + 1 }, (_, i) => a + i * step);

test('fading memory: an exact exponential decay from the last step gives its half-life; a flat or growing profile gives none', () => {
  const T = 40;
  const decay = Float64Array.from({ length: T }, (_, t) => 3 * 2 ** (-(T - 1 - t) / 5));
  const f = fitFadingMemory(decay);
  assert.ok(Math.abs(f.halfLife - 5) < 1e-9, String(f.halfLife));
  assert.ok(Math.abs(f.r2 - 1) < 1e-12, String(f.r2));
  // The curve goes through the normalized last step.
  const total = decay.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(Math.exp(f.intercept) - decay[T - 1] / total) < 1e-12);
  // Steps under 1 % of the total: 2^(-d/5) / sum < 0.01.
  const quiet = Array.from(decay).filter((v) => v / total < 0.01).length;
  assert.ok(quiet > 0 && quiet < T);
  assert.equal(f.quietShare, quiet / T);
  const flat = fitFadingMemory(new Float64Array(T).fill(1));
  assert.equal(flat.halfLife, Infinity);
  assert.ok(flat.rate === 0, String(flat.rate));
  // Relevance growing towards the first step (the LSTM sample's profile can): no half-life, negative rate.
  const grows = fitFadingMemory(Float64Array.from(decay).reverse());
  assert.equal(grows.halfLife, Infinity);
  assert.ok(grows.rate < 0);
  // Steps without relevance are left out of the fit, not taken as log(0).
  const holes = Float64Array.from(decay, (v, t) => (t % 3 === 0 ? 0 : v));
  const h = fitFadingMemory(holes);
  assert.ok(Math.abs(h.halfLife - 5) < 1e-9 && h.steps === T - Math.ceil(T / 3));
});

test('sequence view: the grid read along longitude (forwards and reversed) as (step x latitude), Nino-3.4 at the right steps', () => {
  // The 5-degree sample grid: lat -55..60 (24), lon 0..355 (72); cell (row i, col j) holds 1000 i + j.
  const lat = range(-55, 60, 5);
  const lon = range(0, 355, 5);
  const h = lat.length;
  const w = lon.length;
  const cells = Float64Array.from({ length: h * w }, (_, k) => 1000 * Math.floor(k / w) + (k % w));
  const nino = boxWeights(lat, lon, NINO34);
  const fw = sequenceView({ h, w, lat, lon }, { time: 'lon', reverse: false }, cells, nino);
  assert.equal(fw.steps, 72);
  assert.equal(fw.features, 24);
  // Step t, feature f is cell (f, t).
  assert.equal(fw.map[10 * 24 + 3], 3010);
  // 170W-120W: cells centred at 190..240 E overlap the box (the edge cells by half).
  assert.deepEqual(fw.ninoSteps, [38, 48]);
  assert.deepEqual(fw.ninoFeatures, [lat.indexOf(-5), lat.indexOf(5)]);
  assert.deepEqual(fw.stepCoords.slice(0, 2), [0, 5]);
  assert.ok(Math.abs(fw.perStep.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const bw = sequenceView({ h, w, lat, lon }, { time: 'lon', reverse: true }, cells, nino);
  // Reversed: step t reads column 71 - t.
  assert.equal(bw.map[10 * 24 + 3], 3000 + 61);
  assert.deepEqual(bw.ninoSteps, [71 - 48, 71 - 38]);
  assert.equal(bw.stepCoords[0], 355);
  for (let t = 0; t < 72; t++) assert.ok(Math.abs(bw.perStep[t] - fw.perStep[71 - t]) < 1e-15);
  // Along latitude: step t is row t, the features the longitudes.
  const byLat = sequenceView({ h, w, lat, lon }, { time: 'lat', reverse: false }, cells, nino);
  assert.equal(byLat.steps, 24);
  assert.equal(byLat.map[2 * 72 + 7], 2007);
  assert.deepEqual(byLat.ninoSteps, [lat.indexOf(-5), lat.indexOf(5)]);
});

test('a field fed column by column goes back on the globe: the grid of the ESN sample inverts its pipeline, and the report gets its sequence view', { timeout: 300_000 }, async () => {
  await useBackend('wasm');
  const project = await readProject(join(SAMPLES, 'lrp-lens.json'));
  const seqInput = await buildModelInput(findEntry(project, 'esn_columns'));
  const gridInput = await buildModelInput(findEntry(project, 'cnn_same_maxpool'));
  assert.deepEqual(seqInput.x.shape.slice(1), [72, 24]);
  const grid = displayGrid(seqInput);
  assert.deepEqual([grid.h, grid.w], [24, 72]);
  // The same months of the same field: the sequences put back on the grid are the CNN's (lat, lon) inputs.
  const n = 3;
  const back = batchToGrid(grid, seqInput.x.data.subarray(0, n * 72 * 24), n);
  for (let s = 0; s < n; s++) for (let i = 0; i < 24 * 72; i++) assert.equal(back[s][i], gridInput.x.data[s * 24 * 72 + i], `sample ${s} cell ${i}`);
  // The report's view of the analysed model: fed along longitude, Nino-3.4 at steps 38-48, the same relevance as on the globe.
  const a = await analyzeEntry(project, findEntry(project, 'esn_columns'), { samples: 2 });
  const v = sequenceOf(a);
  assert.ok(v, 'no sequence view for the ESN sample');
  assert.equal(v.time, 'lon');
  assert.equal(v.reverse, false);
  assert.deepEqual(v.ninoSteps, [38, 48]);
  const sum = (x: ArrayLike<number>) => Array.from(x).reduce((p, q) => p + q, 0);
  assert.ok(Math.abs(sum(v.map) - sum(a.trainedAbs)) < 1e-9, `${sum(v.map)} vs ${sum(a.trainedAbs)}`);
  assert.ok(Math.abs(sum(v.perStep) - 1) < 1e-12);
  // A CNN fed the grid itself has no sequence view.
  assert.equal(sequenceAxis(a.graph, displayGrid(gridInput)), undefined);
});
