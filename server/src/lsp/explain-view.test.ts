/**
 * How the panel is told to draw the input: the explain job on the samples' lrp-lens.json (real ERSSTv5
 * data, the mlp_relu sample model) marks a monthly-anomaly input as diverging, gives the variable's
 * units and the entry's regions; the same entry without standardization is drawn sequentially.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../core/backend.js';
import { SAMPLES, scratchDir } from '../testing/paths.js';
import { explainJob } from './explain-job.js';
import type { JobContext } from './jobs.js';

const ctx: JobContext = { progress() {}, cancelled: () => false, checkCancelled() {} };
const config = { backend: 'cpu' as const };
const model = join(SAMPLES, 'models', 'mlp_relu', 'model.json');

before(async () => {
  await useBackend('cpu');
});

test('an anomaly input is marked diverging, with the variable units and the entry regions', async () => {
  const r = await explainJob({ file: model, params: { model, samples: { maxSamples: 1 } }, composite: { name: 'epsilon' }, projectFile: join(SAMPLES, 'lrp-lens.json') }, ctx, config);
  assert.equal(r.inputDiverging, true);
  // ERSSTv5's sst has units "degC"; a monthly anomaly keeps them (no std divides it).
  assert.equal(r.inputUnits, 'degC');
  assert.deepEqual(r.regions, [{ name: 'Nino-3.4', lat: [-5, 5], lon: [190, 240] }]);
  assert.ok(r.coords, 'a map with coordinates, where the regions are drawn');
});

test('without standardization the input is not diverging; divided by a std its units are standard deviations', async () => {
  const dir = scratchDir('explain-view');
  const samples = JSON.parse(readFileSync(join(SAMPLES, 'lrp-lens.json'), 'utf8'));
  const entry = samples.models.find((m: { name: string }) => m.name === 'mlp_relu');
  const abs = { ...entry, model: model, data: { ...entry.data, file: join(SAMPLES, entry.data.file) }, labels: { ...entry.labels, file: join(SAMPLES, entry.labels.file) } };
  delete abs.regions;
  const plain = { ...abs, name: 'plain', input: { ...abs.input, standardize: undefined } };
  const scaled = { ...abs, name: 'scaled', input: { ...abs.input, standardize: { anomaly: 'monthly', period: '2010-01:2017-12', std: 1.5 } } };
  const write = (e: object) => {
    const file = join(dir, 'lrp-lens.json');
    writeFileSync(file, JSON.stringify({ version: 1, models: [e] }));
    return file;
  };
  const p = await explainJob({ file: model, params: { model, samples: { maxSamples: 1 } }, composite: { name: 'epsilon' }, projectFile: write(plain) }, ctx, config);
  assert.equal(p.inputDiverging, undefined);
  assert.equal(p.inputUnits, 'degC');
  assert.equal(p.regions, undefined, 'no regions named: none passed (the panel draws none)');
  const s = await explainJob({ file: model, params: { model, samples: { maxSamples: 1 } }, composite: { name: 'epsilon' }, projectFile: write(scaled) }, ctx, config);
  assert.equal(s.inputDiverging, true);
  assert.equal(s.inputUnits, 'σ');
});
