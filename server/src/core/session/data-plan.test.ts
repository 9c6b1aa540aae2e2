/**
 * The data form's plan on the real samples: the suggested defaults for each sample model fit it and give
 * the same model input as the hand-written entries of samples/lrp-lens.json (float32-exact); real
 * mismatches give messages in the data's terms; hostile drafts give structured problems.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SAMPLES } from '../../testing/paths.js';
import { describeData } from '../data/describe.js';
import { draftProject, type DraftEntry } from '../data/draft.js';
import { loadField } from '../data/load.js';
import { buildModelInput, scatterFeatures, type ModelInput } from '../data/pipeline.js';
import { findEntry, readProject, type ModelEntry } from '../data/project.js';
import { suggestEntry } from '../data/suggest.js';
import { loadModel } from '../model/load.js';
import { planInput } from './data-plan.js';

const D2 = join(SAMPLES, 'data', 'ersstv5_sst_2deg_2010-2020.nc');
const D5 = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
const modelFile = (m: string): string => join(SAMPLES, 'models', m, m === 'esn_columns' ? 'model.onnx' : 'model.h5');

async function spec(m: string) {
  const g = await loadModel(modelFile(m));
  return { fileShape: g.inputs[0].fileShape, fileLayout: g.inputs[0].fileLayout, recurrent: g.nodes.some((n) => n.kind === 'Recurrent') };
}

async function defaults(m: string, data: string): Promise<DraftEntry> {
  return suggestEntry(await describeData(data), await spec(m)).entry!;
}

async function saved(name: string): Promise<ModelEntry> {
  return findEntry(await readProject(join(SAMPLES, 'lrp-lens.json')), name);
}

const sample0 = (mi: ModelInput): Float32Array => mi.x.data.slice(0, mi.x.shape.slice(1).reduce((a, b) => a * b, 1));

async function build(e: ModelEntry, m: string): Promise<ModelInput> {
  const s = await spec(m);
  return buildModelInput(e, s.fileShape, { fileLayout: s.fileLayout });
}

function parsed(draft: DraftEntry, m: string): ModelEntry {
  const { project, issues } = draftProject(draft, modelFile(m), SAMPLES);
  assert.deepEqual(issues, []);
  return project!.models[0];
}

for (const m of ['cnn_same_maxpool', 'cnn_valid_wrap_avgpool', 'esn_columns', 'lstm_columns']) {
  test(`defaults for ${m} on the 5-degree file fit and give the saved entry's inputs`, async () => {
    const draft = await defaults(m, D5);
    const s = await spec(m);
    const plan = await planInput(draft, { modelFile: modelFile(m), spec: s, dir: SAMPLES });
    assert.equal(plan.fits, true, JSON.stringify(plan.problems));
    assert.equal(plan.samples, 468);
    assert.deepEqual([plan.firstTime, plan.lastTime], ['1980-01-01', '2018-12-01']);
    assert.deepEqual(plan.dataShape, s.fileShape.slice(1));
    const mine = await build(parsed(draft, m), m);
    const theirs = await build(await saved(m), m);
    assert.deepEqual(mine.x.shape, theirs.x.shape);
    assert.deepEqual(sample0(mine), sample0(theirs));
    // The preview (built from one sample only) is the field itself: tos at 1980-01 (no missing cells, no standardization).
    const f = await loadField(D5, { variable: 'tos', select: 'time=0' });
    const wrap = m === 'cnn_valid_wrap_avgpool' ? 4 : 0;
    assert.deepEqual(plan.preview!.shape, [24, 72 + 2 * wrap]);
    const expected = new Float32Array(24 * (72 + 2 * wrap));
    for (let r = 0; r < 24; r++) for (let c = 0; c < 72 + 2 * wrap; c++) expected[r * (72 + 2 * wrap) + c] = f.values[r * 72 + ((c - wrap + 72) % 72)];
    assert.deepEqual(plan.preview!.map, expected);
    assert.equal(plan.preview!.time, '1980-01-01');
    assert.equal(plan.preview!.coords!.lat.length, 24);
  });
}

test('defaults for mlp_relu on the 2-degree file: the valid cells flattened, monthly anomalies, same inputs as the saved entry', async () => {
  const m = 'mlp_relu';
  const draft = await defaults(m, D2);
  assert.equal(draft.input!.flatten, 'valid');
  const s = await spec(m);
  const plan = await planInput(draft, { modelFile: modelFile(m), spec: s, dir: SAMPLES, previewSample: 3, units: 'degC' });
  assert.equal(plan.fits, true, JSON.stringify(plan.problems));
  assert.deepEqual(plan.dataShape, [10988]);
  assert.equal(plan.preview!.diverging, true);
  assert.equal(plan.preview!.time, '2010-04-01');
  // The saved entry's base period is 2010-2017; the default is the file's whole years, 2010-2019.
  const e = await saved(m);
  const same: ModelEntry = { ...e, input: { ...e.input, standardize: { anomaly: 'monthly', period: '2010-01:2019-12' } } };
  const mine = await build(parsed(draft, m), m);
  const theirs = await build(same, m);
  assert.deepEqual(sample0(mine), sample0(theirs));
  const grid = scatterFeatures(theirs.scatter!, theirs.x.data.subarray(3 * 10988, 4 * 10988), 1, 0);
  assert.deepEqual(plan.preview!.map, grid);
  let masked = 0;
  for (const v of plan.preview!.mask!) masked += v;
  assert.equal(masked, 89 * 180 - 10988);
});

test('the 5-degree file for the 2-degree MLP: the valid cells against the model\'s features', async () => {
  const m = 'mlp_relu';
  const plan = await planInput(await defaults(m, D5), { modelFile: modelFile(m), spec: await spec(m), dir: SAMPLES });
  assert.equal(plan.fits, false);
  assert.match(plan.problems[0].message, /^the model takes 10988 values per sample, the valid \(ocean\) cells are 1728 \(of 1728 cells of the 24x72 grid\)/);
});

test('the 2-degree file for the 5-degree CNN: the grids compared, lat x lon', async () => {
  const m = 'cnn_same_maxpool';
  const plan = await planInput(await defaults(m, D2), { modelFile: modelFile(m), spec: await spec(m), dir: SAMPLES });
  assert.equal(plan.fits, false);
  assert.match(plan.problems[0].message, /^the model expects 24x72, the variable is 89x180 \(lat x lon\): choose the file the model was trained on/);
  // Coarsened by 2 it is 44x90: still not the model's grid, and the message says so after coarsening.
  const draft = await defaults(m, D2);
  const c2 = await planInput({ ...draft, input: { ...draft.input, coarsen: 2 } }, { modelFile: modelFile(m), spec: await spec(m), dir: SAMPLES });
  assert.match(c2.problems[0].message, /^the model expects 24x72, the variable is 44x90 \(lat x lon\) after coarsening by 2/);
});

test('a wrap model given no wrap: the message says how many cells to add', async () => {
  const m = 'cnn_valid_wrap_avgpool';
  const draft = await defaults(m, D5);
  delete draft.input!.wrapLon;
  const plan = await planInput(draft, { modelFile: modelFile(m), spec: await spec(m), dir: SAMPLES });
  assert.match(plan.problems[0].message, /^the model expects 24x80, the variable is 24x72 \(lat x lon\): set "wrapLon": 4/);
});

test('hostile drafts: a missing variable, a bad period, a huge selection, a missing file: problems at their keys', async () => {
  const m = 'cnn_same_maxpool';
  const s = await spec(m);
  const draft = await defaults(m, D5);
  const p1 = await planInput({ ...draft, data: { ...draft.data, variable: 'sst' } }, { modelFile: modelFile(m), spec: s, dir: SAMPLES });
  assert.equal(p1.fits, false);
  assert.equal(p1.problems[0].path, 'data.variable');
  assert.match(p1.problems[0].message, /no variable 'sst'/);
  const p2 = await planInput({ ...draft, input: { ...draft.input, standardize: { anomaly: 'monthly', period: 'last winter' } } }, { modelFile: modelFile(m), spec: s, dir: SAMPLES });
  assert.equal(p2.problems[0].path, 'input.standardize.period');
  const p3 = await planInput({ ...draft, data: { ...draft.data, file: join(SAMPLES, 'data', 'nothing.nc') } }, { modelFile: modelFile(m), spec: s, dir: SAMPLES });
  assert.equal(p3.problems[0].path, 'data.file');
  const p4 = await planInput(draft, { modelFile: modelFile(m), spec: s, dir: SAMPLES, previewSample: 10_000 });
  assert.match(p4.problems[0].message, /preview sample 10000 is not one of the 468 samples/);
  const p5 = await planInput({ ...draft, input: { ...draft.input, coarsen: 1e9 } }, { modelFile: modelFile(m), spec: s, dir: SAMPLES });
  assert.equal(p5.problems[0].path, 'input.coarsen');
});

test('a model on the 4-degree grid (44x90) and the 2-degree file: the message names the coarsening, the suggestion applies it and fits', async () => {
  const spec44 = { fileShape: [null, 44, 90, 1], fileLayout: 'NHWC' };
  const info = await describeData(D2);
  const plain = suggestEntry(info).entry!;
  const p1 = await planInput({ ...plain, input: { ...plain.input, layout: ['lat', 'lon', 'channel'] } }, { modelFile: modelFile('cnn_same_maxpool'), spec: spec44, dir: SAMPLES });
  assert.equal(p1.fits, false);
  assert.equal(p1.problems[0].message, 'the model expects 44x90, the variable is 89x180 (lat x lon): choose a file on the model\'s grid or a coarsening factor of 2 ("coarsen": 2 gives 44x90)');
  const s = suggestEntry(info, spec44);
  assert.equal(s.entry!.input!.coarsen, 2);
  const p2 = await planInput(s.entry!, { modelFile: modelFile('cnn_same_maxpool'), spec: spec44, dir: SAMPLES });
  assert.equal(p2.fits, true, JSON.stringify(p2.problems));
  assert.deepEqual(p2.dataShape, [44, 90, 1]);
  assert.deepEqual(p2.preview!.coords!.lat.slice(0, 2), [87, 83]);
});
