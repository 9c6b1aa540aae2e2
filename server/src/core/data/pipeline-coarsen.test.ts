/**
 * input.coarsen and input.clip on the real 2-degree ERSSTv5 file: block means (missing cells left out)
 * computed here independently from the raw reading, block-centre coordinates, a monthly climatology of the
 * coarsened base period, and standardized values capped to [low, high].
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SAMPLES } from '../../testing/paths.js';
import { loadField } from './load.js';
import { buildModelInput } from './pipeline.js';
import { parseProject, type ModelEntry } from './project.js';

const D2 = join(SAMPLES, 'data', 'ersstv5_sst_2deg_2010-2020.nc');

function entry(input: Record<string, unknown>, select: Record<string, unknown> = { time: '2012-01:2012-03' }, extra: Record<string, unknown> = {}): ModelEntry {
  const text = JSON.stringify({ version: 1, models: [{ model: 'm.h5', data: { file: D2, variable: 'sst', select }, input: { sampleDim: 'time', ...input }, ...extra }] });
  const { project, issues } = parseProject(text, join(SAMPLES, 'lrp-lens.json'));
  assert.deepEqual(issues, []);
  return project!.models[0];
}

/** Block means of k x k cells of one lat x lon map (NaN left out, trailing cells dropped), float32 like a reader's values. */
function blocks(map: Float32Array, h: number, w: number, k: number): Float32Array {
  const H = Math.floor(h / k);
  const W = Math.floor(w / k);
  const out = new Float32Array(H * W);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      let s = 0;
      let n = 0;
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          const v = map[(r * k + i) * w + c * k + j];
          if (!Number.isNaN(v)) {
            s += v;
            n++;
          }
        }
      }
      out[r * W + c] = n ? s / n : NaN;
    }
  }
  return out;
}

test('coarsen 2: 89x180 becomes 44x90 block means, missing blocks filled, coordinates at block centres', async () => {
  const mi = await buildModelInput(entry({ coarsen: 2, fillValue: -99 }, undefined, { mask: 'missing' }));
  assert.deepEqual(mi.x.shape, [3, 44, 90, 1]);
  const raw = await loadField(D2, { variable: 'sst', select: 'time=24:27' });
  const per = 89 * 180;
  for (let t = 0; t < 3; t++) {
    const want = blocks(raw.values.subarray(t * per, (t + 1) * per), 89, 180, 2).map((v) => (Number.isNaN(v) ? -99 : v));
    assert.deepEqual(mi.x.data.subarray(t * 44 * 90, (t + 1) * 44 * 90), want);
  }
  // Block centres: lat 88, 86 -> 87; lon 0, 2 -> 1.
  assert.deepEqual(Array.from(mi.coords.lat!.values.slice(0, 2)), [87, 83]);
  assert.deepEqual(Array.from(mi.coords.lon!.values.slice(0, 2)), [1, 5]);
  assert.equal(mi.coords.lat!.values.length, 44);
  // The mask is of the coarsened field: a block is valid where it has a value in every sample.
  assert.deepEqual(mi.mask!.shape, [44, 90]);
  let valid = 0;
  for (let i = 0; i < 44 * 90; i++) valid += mi.mask!.data[i];
  let expectValid = 0;
  const b = [0, 1, 2].map((t) => blocks(raw.values.subarray(t * per, (t + 1) * per), 89, 180, 2));
  for (let i = 0; i < 44 * 90; i++) expectValid += b.every((x) => !Number.isNaN(x[i])) ? 1 : 0;
  assert.equal(valid, expectValid);
  assert.ok(valid > 2000 && valid < 44 * 90);
});

test('coarsen with monthly anomalies: the climatology is of the coarsened base period', async () => {
  const mi = await buildModelInput(entry({ coarsen: 3, standardize: { anomaly: 'monthly', period: '2010-01:2011-12' } }, { time: '2012-02:2012-02' }));
  assert.deepEqual(mi.x.shape, [1, 29, 60, 1]);
  const raw = await loadField(D2, { variable: 'sst', select: 'time=0:26' });
  const per = 89 * 180;
  const bm = (t: number): Float32Array => blocks(raw.values.subarray(t * per, (t + 1) * per), 89, 180, 3);
  // February: months 1 and 13 of the base period; the sample is month 25.
  const [a, b, x] = [bm(1), bm(13), bm(25)];
  const want = new Float32Array(29 * 60);
  for (let i = 0; i < want.length; i++) {
    const clim = Number.isNaN(a[i]) ? b[i] : Number.isNaN(b[i]) ? a[i] : (a[i] + b[i]) / 2;
    want[i] = Number.isNaN(x[i] - clim) ? 0 : x[i] - clim;
  }
  assert.deepEqual(mi.x.data, want);
});

test('clip caps the standardized values to [low, high]', async () => {
  const mi = await buildModelInput(entry({ standardize: { mean: 15, std: 10 }, clip: [-1, 1] }, { time: '2012-01:2012-01' }));
  const raw = await loadField(D2, { variable: 'sst', select: 'time=24' });
  const want = new Float32Array(raw.values.length);
  for (let i = 0; i < want.length; i++) {
    const v = Math.fround((raw.values[i] - 15) / 10);
    want[i] = Number.isNaN(v) ? 0 : Math.min(1, Math.max(-1, v));
  }
  assert.deepEqual(mi.x.data, want);
  assert.ok(want.some((v) => v === 1) && want.some((v) => v === -1));
});

test('the parser checks coarsen and clip', () => {
  const issues = (input: Record<string, unknown>) =>
    parseProject(JSON.stringify({ models: [{ model: 'm.h5', data: { file: 'x.nc' }, input }] }), '/tmp/lrp-lens.json').issues.map((i) => [i.path.join('.'), i.message]);
  assert.deepEqual(issues({ coarsen: 0 }), [['models.0.input.coarsen', "'coarsen' must be an integer >= 1"]]);
  assert.deepEqual(issues({ coarsen: 1.5 }), [['models.0.input.coarsen', "'coarsen' must be an integer >= 1"]]);
  assert.equal(issues({ clip: [2, 1] })[0][0], 'models.0.input.clip');
  assert.equal(issues({ clip: [1] })[0][0], 'models.0.input.clip');
  assert.deepEqual(issues({ coarsen: 2, clip: [-3, 3] }), []);
});
