/** `lrp-lens explain`: the relevance file, the JSON report (targets, outputs, conservation), rule maps, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli as cli } from '../testing/cli.js';
import { REF, SAMPLES, scratchDir } from '../testing/paths.js';
import { writeNpy } from '../core/data/npy.js';
import { toFloat32 } from '../core/array.js';
import { loadModel } from '../core/model/load.js';
import { buildModelInput } from '../core/data/pipeline.js';
import { findEntry, readProject } from '../core/data/project.js';
import { readNpyFile } from '../testing/arrays.js';

const dir = scratchDir('cli-explain');
const index = JSON.parse(readFileSync(join(REF, 'index.json'), 'utf8'));

test('explain --json on the Keras file: R.npy in the layout of X, sums as Zennit reports them, softmax stripped', async () => {
  const out = join(dir, 'r_h5.npy');
  const { code, out: text } = await cli([
    'explain', join(REF, 'cnn_same', 'model.h5'), '--input', join(REF, 'cnn_same', 'x_nhwc.npy'),
    '--composite', 'epsilon-gamma-box', '--low', '-5', '--high', '5', '--gamma', '0.25', '--out', out, '--json',
  ]);
  assert.equal(code, 0);
  const j = JSON.parse(text);
  const r = readNpyFile(out);
  assert.deepEqual(r.shape, readNpyFile(join(REF, 'cnn_same', 'x_nhwc.npy')).shape);
  assert.equal(j.init, 'onehot');
  assert.equal(j.strippedOutput.activation, 'softmax');
  const want: number[] = index.models.cnn_same.relevance.epsilon_gamma_box.sum_per_sample;
  const targets = Array.from(toFloat32(readNpyFile(join(REF, 'cnn_same', 'target.npy'))));
  const logits = readNpyFile(join(REF, 'cnn_same', 'logits.npy'));
  const k = logits.shape[1];
  j.samples.forEach((s: { target: number; relevanceSum: number; output: number[] }, i: number) => {
    assert.equal(s.target, targets[i]);
    assert.ok(Math.abs(s.relevanceSum - want[i]) < 1e-4, `sample ${i}: ${s.relevanceSum} vs ${want[i]}`);
    // The explained output is the logits (before the stripped softmax).
    s.output.forEach((v, c) => assert.ok(Math.abs(v - logits.data[i * k + c]) < 1e-4));
  });
  // Conservation report: every layer, output first, each with one sum per sample; the top sums to 1.
  assert.equal(j.layers[0].relevanceSum.length, 8);
  for (const v of j.layers[0].relevanceSum) assert.ok(Math.abs(v - 1) < 1e-6);
  assert.ok(j.layers.some((l: { rule: string }) => l.rule.startsWith('zbox')));
  assert.ok(j.layers.some((l: { rule: string }) => l.rule.startsWith('gamma')));
});

test('explain with a rule map, a contrast target and output initialisation (ONNX, NCHW)', async () => {
  const out = join(dir, 'r_onnx.npy');
  const rules = join(dir, 'rules.json');
  writeFileSync(rules, JSON.stringify({ rules: [{ first: true, rule: 'flat' }, { kind: 'Dense', rule: 'epsilon:0.25' }] }));
  const { code, out: text } = await cli([
    'explain', join(REF, 'cnn_same', 'model.onnx'), '--input', join(REF, 'cnn_same', 'x_nchw.npy'),
    '--composite', 'epsilon-plus', '--rules', rules, '--target', '0-1', '--init', 'output', '--out', out, '--json',
  ]);
  assert.equal(code, 0);
  const j = JSON.parse(text);
  assert.equal(j.layout, 'NCHW');
  assert.equal(j.init, 'output');
  assert.equal(j.samples[0].target, '0-1');
  const top = j.layers[0];
  assert.equal(top.rule, 'epsilon(0.25)');
  // Output initialisation: the top relevance is the contrast value f0 - f1.
  j.samples.forEach((s: { output: number[] }, i: number) => assert.ok(Math.abs(top.relevanceSum[i] - (s.output[0] - s.output[1])) < 1e-4));
  const first = j.layers[j.layers.length - 1];
  assert.equal(first.rule, 'flat');
  assert.deepEqual(readNpyFile(out).shape, [8, 1, 16, 32]);
});

test('explain errors: unknown composite, bad target, bad flags give exit 2 and a coded error', async () => {
  const base = ['explain', join(REF, 'mlp', 'model.h5'), '--input', join(REF, 'mlp', 'x_nhwc.npy'), '--out', join(dir, 'x.npy'), '--json'];
  for (const [extra, code] of [
    [['--composite', 'epsilon-gamma-box', '--init', 'zero'], 'USAGE'],
    [['--composite', 'nope'], 'USAGE'],
    [['--composite', 'epsilon', '--target', '99'], 'SELECTION_OUT_OF_RANGE'],
    [['--composite', 'epsilon', '--rules', 'kind:Dense=bogus'], 'USAGE'],
    [['--var', 'x'], 'USAGE'],
    [['--model', 'x'], 'USAGE'],
    [['--bogus', '1'], 'USAGE'],
    [['--data', join(REF, 'mlp', 'x_nhwc.npy')], 'USAGE'],
    [['--target', 'label'], 'USAGE'],
  ] as [string[], string][]) {
    const r = await cli([...base, ...extra]);
    assert.equal(r.code, 2, extra.join(' '));
    assert.equal(JSON.parse(r.out).error.code, code, extra.join(' '));
  }
});

const npy = (p: string): { shape: number[]; data: Float32Array } => {
  const a = readNpyFile(p);
  return { shape: a.shape, data: toFloat32(a) };
};

const SAMPLE_PROJECT = join(SAMPLES, 'lrp-lens.json');
const SAMPLE_CNN = join(SAMPLES, 'models', 'cnn_same_maxpool', 'model.h5');

/** NINO3.4 anomaly per 'YYYY-MM' from NOAA CPC's text (column 10), read here independently of the data readers. */
function cpcNino34(): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of readFileSync(join(SAMPLES, 'data', 'cpc_nino34_ersst5.txt'), 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length === 10 && /^\d{4}$/.test(f[0])) m.set(`${f[0]}-${f[1].padStart(2, '0')}`, Number(f[9]));
  }
  return m;
}

test('explain --config samples/lrp-lens.json --model cnn_same_maxpool: the entry\'s data in the model layout, with dates and labels', { skip: !existsSync(SAMPLE_CNN) && 'sample models not built' }, async () => {
  const out = join(dir, 'r_config.npy');
  const { code, out: text } = await cli(['explain', '--config', SAMPLE_PROJECT, '--model', 'cnn_same_maxpool', '--composite', 'epsilon', '--out', out, '--json']);
  assert.equal(code, 0, text);
  const j = JSON.parse(text);
  assert.match(j.model, /cnn_same_maxpool[\\/]model\.(h5|json)$/);
  assert.equal(j.composite, 'epsilon', '--composite overrides the entry\'s epsilon-gamma-box');
  assert.equal(j.input.entry, 'cnn_same_maxpool');
  // The number of months from ncdump (netcdf-bin), the grid from the model's declared input.
  const header = execFileSync('ncdump', ['-h', join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc')], { encoding: 'utf8' });
  const months = Number(/time = UNLIMITED ; \/\/ \((\d+) currently\)/.exec(header)![1]);
  const graph = await loadModel(SAMPLE_CNN);
  const r = npy(out);
  assert.deepEqual(r.shape, [months, ...graph.inputs[0].fileShape.slice(1)]);
  assert.equal(j.samples.length, months);
  // Dates: monthly from 1980-01 (the file's time axis); labels: NINO3.4 anomaly thresholded as the project says.
  const project = JSON.parse(readFileSync(SAMPLE_PROJECT, 'utf8'));
  const th: number[] = project.models.find((m: { name: string }) => m.name === 'cnn_same_maxpool').labels.thresholds;
  const nino = cpcNino34();
  j.samples.forEach((s: { date: string; label: number; labelName: string; labelValue: number }, i: number) => {
    const want = `${1980 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
    assert.equal(s.date.slice(0, 7), want);
    const v = nino.get(want)!;
    assert.ok(Math.abs(s.labelValue - v) < 1e-6, `${want}: ${s.labelValue} vs ${v}`);
    assert.equal(s.label, th.filter((t) => v > t).length, want);
    assert.equal(s.labelName, project.models[0].classNames[s.label]);
  });
  // One code path: the same relevance as explaining the pipeline's input written as X.npy.
  const p = await readProject(SAMPLE_PROJECT);
  const mi = await buildModelInput(findEntry(p, 'cnn_same_maxpool'), graph.inputs[0].fileShape);
  const xPath = join(dir, 'x_config.npy');
  writeFileSync(xPath, writeNpy(mi.x.data, mi.x.shape));
  const out2 = join(dir, 'r_config_npy.npy');
  assert.equal((await cli(['explain', j.model, '--input', xPath, '--composite', 'epsilon', '--out', out2])).code, 0);
  assert.deepEqual(r.data, npy(out2).data);
});

test('explain --config: the entry\'s composite and target apply unless given; target "label" explains each sample\'s label', async () => {
  const pdir = scratchDir('cli-explain-project');
  const labels = [1, 0, 1, 1, 0, 0, 1, 0];
  const project = (explain: Record<string, unknown>): string => {
    const f = join(pdir, `lrp-lens-${Object.values(explain).join('-')}.json`);
    writeFileSync(f, JSON.stringify({ version: 1, models: [{ name: 'ref', model: join(REF, 'cnn_same', 'model.h5'), data: { file: join(REF, 'cnn_same', 'x_nhwc.npy') }, labels: { values: labels }, classNames: ['a', 'b'], explain }] }));
    return f;
  };
  const out = join(pdir, 'r.npy');
  const a = await cli(['explain', '--config', project({ composite: 'epsilon-plus', target: 'label' }), '--out', out, '--json']);
  assert.equal(a.code, 0, a.out);
  const ja = JSON.parse(a.out);
  assert.equal(ja.composite, 'epsilon-plus');
  assert.deepEqual(ja.samples.map((s: { target: number }) => s.target), labels);
  assert.deepEqual(ja.samples.map((s: { labelName: string }) => s.labelName), labels.map((l) => ['a', 'b'][l]));
  // The same maps as explaining each class on its own with --input and --target INDEX.
  const ra = npy(out);
  const per = ra.data.length / labels.length;
  for (const cls of [0, 1]) {
    const o = join(pdir, `r${cls}.npy`);
    assert.equal((await cli(['explain', join(REF, 'cnn_same', 'model.h5'), '--input', join(REF, 'cnn_same', 'x_nhwc.npy'), '--composite', 'epsilon-plus', '--target', String(cls), '--out', o])).code, 0);
    const rc = npy(o);
    labels.forEach((l, s) => {
      if (l === cls) assert.deepEqual(ra.data.subarray(s * per, (s + 1) * per), rc.data.subarray(s * per, (s + 1) * per));
    });
  }
  // Command line wins over the entry; epsilon-gamma-box without bounds takes the data's range.
  const b = await cli(['explain', '--config', project({ composite: 'epsilon-gamma-box', target: 'label' }), '--target', '0', '--out', out, '--json']);
  assert.equal(b.code, 0, b.out);
  const jb = JSON.parse(b.out);
  assert.equal(jb.composite, 'epsilon-gamma-box');
  assert.ok(jb.samples.every((s: { target: number }) => s.target === 0));
  const x = npy(join(REF, 'cnn_same', 'x_nhwc.npy')).data;
  assert.equal(jb.bounds.from, 'data');
  assert.equal(jb.bounds.low, Math.min(...x));
  assert.equal(jb.bounds.high, Math.max(...x));
});

test('explain --data on a .npy from shared/: the same relevance as --input; --select takes samples', async () => {
  const model = join(REF, 'cnn_same', 'model.onnx');
  const x = join(REF, 'cnn_same', 'x_nchw.npy');
  const viaInput = join(dir, 'r_in.npy');
  const viaData = join(dir, 'r_data.npy');
  const viaSel = join(dir, 'r_sel.npy');
  assert.equal((await cli(['explain', model, '--input', x, '--composite', 'epsilon-plus', '--out', viaInput])).code, 0);
  const d = await cli(['explain', model, '--data', x, '--composite', 'epsilon-plus', '--out', viaData, '--json']);
  assert.equal(d.code, 0, d.out);
  assert.equal(JSON.parse(d.out).input.from, 'data');
  const a = npy(viaInput);
  const b = npy(viaData);
  assert.deepEqual(b.shape, [8, 1, 16, 32]);
  assert.deepEqual(b.data, a.data);
  const s = await cli(['explain', model, '--data', x, '--select', 'dim_0=2:5', '--composite', 'epsilon-plus', '--out', viaSel, '--json']);
  assert.equal(s.code, 0, s.out);
  const c = npy(viaSel);
  assert.deepEqual(c.shape, [3, 1, 16, 32]);
  const per = 16 * 32;
  c.data.forEach((v, i) => assert.ok(Math.abs(v - a.data[2 * per + i]) <= 1e-6 * (1 + Math.abs(a.data[2 * per + i])), `${i}`));
});

test('explain --config with an entry whose data do not fit the model: exit 2, SHAPE_MISMATCH naming the key', async () => {
  const pdir = scratchDir('cli-explain-bad');
  const f = join(pdir, 'lrp-lens.json');
  writeFileSync(f, JSON.stringify({ version: 1, models: [{ name: 'wrong', model: join(REF, 'cnn_same', 'model.h5'), data: { file: join(REF, 'cnn_same', 'x_nhwc.npy'), select: { dim_1: '0:8' } } }] }));
  for (const cmd of ['explain', 'predict']) {
    const r = await cli([cmd, '--config', f, '--model', 'wrong', '--out', join(pdir, 'r.npy'), '--json']);
    assert.equal(r.code, 2, cmd);
    const e = JSON.parse(r.out).error;
    assert.equal(e.code, 'SHAPE_MISMATCH', cmd);
    assert.match(e.message, /models\[0\]\.data/, cmd);
    assert.equal(e.file, f);
  }
  const none = await cli(['explain', '--config', f, '--model', 'wrng', '--out', join(pdir, 'r.npy'), '--json']);
  assert.equal(none.code, 2);
  assert.match(JSON.parse(none.out).error.message, /Did you mean 'wrong'/);
});

test('explain --config on the ocean-cell MLP writes R.npy on the 89x180 grid, NaN on land; --layout model keeps the 10,988 features', { skip: !existsSync(join(SAMPLES, 'models', 'mlp_relu', 'model.json')) && 'sample models not built' }, async () => {
  const grid = join(dir, 'r_mlp_grid.npy');
  const a = await cli(['explain', '--config', SAMPLE_PROJECT, '--model', 'mlp_relu', '--out', grid, '--json']);
  assert.equal(a.code, 0, a.out);
  const j = JSON.parse(a.out);
  const months = j.samples.length;
  const r = npy(grid);
  // The grid of the unflattened input: lat, lon and its one channel.
  assert.deepEqual(r.shape, [months, 89, 180, 1]);
  assert.deepEqual(j.outShape, r.shape);
  assert.deepEqual(j.outGrid.dims.slice(0, 2), ['lat', 'lon']);
  const per = 89 * 180;
  // The literature's 10,988 ocean cells carry relevance; every other cell is NaN, the same cells in every month.
  const ocean = Array.from({ length: per }, (_, i) => !Number.isNaN(r.data[i]));
  assert.equal(ocean.filter(Boolean).length, 10988);
  for (let s = 0; s < months; s++) for (let i = 0; i < per; i++) assert.equal(!Number.isNaN(r.data[s * per + i]), ocean[i], `month ${s} cell ${i}`);
  const model = join(dir, 'r_mlp_model.npy');
  const b = await cli(['explain', '--config', SAMPLE_PROJECT, '--model', 'mlp_relu', '--layout', 'model', '--out', model]);
  assert.equal(b.code, 0, b.out);
  const v = npy(model);
  assert.deepEqual(v.shape, [months, 10988]);
  // The same values, in grid (C) order, and each month's sum is the relevance sum the JSON reports.
  for (let s = 0; s < months; s++) {
    const cells = Array.from(r.data.subarray(s * per, (s + 1) * per)).filter((x) => !Number.isNaN(x));
    assert.deepEqual(cells, Array.from(v.data.subarray(s * 10988, (s + 1) * 10988)));
    const sum = cells.reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(sum - j.samples[s].relevanceSum) <= 1e-4 * Math.max(1, Math.abs(sum)), `month ${s}: ${sum} vs ${j.samples[s].relevanceSum}`);
  }
  assert.equal((await cli(['explain', '--config', SAMPLE_PROJECT, '--model', 'mlp_relu', '--layout', 'map', '--out', model])).code, 2);
});
