/** --dates / --time: samples by date on the data's time axis, one parser for explain, check and report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli as cli } from '../testing/cli.js';
import { SAMPLES, scratchDir } from '../testing/paths.js';
import { writeNpy } from '../core/data/npy.js';
import { loadModel } from '../core/model/load.js';
import { buildModelInput } from '../core/data/pipeline.js';
import { findEntry, readProject } from '../core/data/project.js';
import { takeSamples } from '../core/session/samples.js';
import { analyzeEntry } from '../core/report/analyze.js';
import { useBackend } from '../core/backend.js';
import { readNpyFile } from '../testing/arrays.js';

const dir = scratchDir('cli-date-flags');
const PROJECT = join(SAMPLES, 'lrp-lens.json');
const MODEL = join(SAMPLES, 'models', 'cnn_same_maxpool', 'model.h5');

test('explain --dates and --time on the ERSSTv5 entry: the months asked, the same maps as those months given as X.npy', async () => {
  const byDates = join(dir, 'r_dates.npy');
  const a = await cli(['explain', '--config', PROJECT, '--model', 'cnn_same_maxpool', '--composite', 'epsilon', '--dates', '2015-12,2016-01', '--out', byDates, '--json']);
  assert.equal(a.code, 0, a.out);
  const j = JSON.parse(a.out);
  assert.deepEqual(j.samples.map((s: { date: string }) => s.date.slice(0, 7)), ['2015-12', '2016-01']);
  const byRange = join(dir, 'r_range.npy');
  const b = await cli(['explain', '--config', PROJECT, '--model', 'cnn_same_maxpool', '--composite', 'epsilon', '--time', '2015-12:2016-01', '--out', byRange]);
  assert.equal(b.code, 0, b.out);
  // The pipeline's input at 1980-01 + 431 and + 432 months, explained from a .npy: the same relevance.
  const graph = await loadModel(MODEL);
  const mi = await buildModelInput(findEntry(await readProject(PROJECT), 'cnn_same_maxpool'), graph.inputs[0].fileShape);
  const x = takeSamples(mi.x, [431, 432]);
  const xFile = join(dir, 'x_dates.npy');
  writeFileSync(xFile, writeNpy(x.data, x.shape));
  const fromNpy = join(dir, 'r_npy.npy');
  const c = await cli(['explain', MODEL, '--input', xFile, '--composite', 'epsilon', '--out', fromNpy]);
  assert.equal(c.code, 0, c.out);
  const want = readNpyFile(fromNpy);
  for (const f of [byDates, byRange]) {
    const r = readNpyFile(f);
    assert.deepEqual(r.shape, want.shape);
    assert.deepEqual(r.data, want.data);
  }
});

test('--dates / --time errors: a month not in the data names the axis span; a malformed date or range is a usage error', async () => {
  const out = join(dir, 'r_err.npy');
  const missing = await cli(['explain', '--config', PROJECT, '--model', 'cnn_same_maxpool', '--dates', '2019-01', '--out', out, '--json']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.out, /SELECTION_OUT_OF_RANGE/);
  assert.match(missing.out, /1980-01-01\.\.2018-12-01/);
  for (const [cmd, flag, value] of [['explain', '--dates', '12/2015'], ['check', '--time', '2016-06:2015-01'], ['report', '--time', '2015-01']]) {
    const args = cmd === 'report' ? ['report', SAMPLES, '--out', join(dir, 'rep')] : cmd === 'check' ? ['check', '--config', PROJECT] : ['explain', '--config', PROJECT, '--out', out];
    const r = await cli([...args, flag, value, '--json']);
    assert.equal(r.code, 2, `${cmd} ${flag} ${value}: ${r.out}`);
    assert.match(r.out, new RegExp(`--${flag.slice(2)}`));
  }
});

test('check --config --model --time: the map checks run on the months asked (the inputs line names them)', async () => {
  const r = await cli(['check', '--config', PROJECT, '--model', 'cnn_same_maxpool', '--time', '1997-01:1998-12', '--format', 'json']);
  assert.ok(r.code === 0 || r.code === 1, r.out);
  const j = JSON.parse(r.out);
  const input = j.inputs?.[0] ?? j.summary?.inputs?.[0];
  assert.ok(input, r.out.slice(0, 400));
  assert.equal(input.samples, 24);
  assert.deepEqual(input.dates.map((d: string) => d.slice(0, 7)), ['1997-01', '1998-12']);
});

test('report --time: each class\'s samples come from the months asked (counts from the CPC index, thresholded as the project says)', async () => {
  const project = await readProject(PROJECT);
  const entry = findEntry(project, 'cnn_same_maxpool');
  await useBackend('wasm');
  const a = await analyzeEntry(project, entry, { samples: 100, period: { timeRange: '1997-01:1998-12' } });
  const th: number[] = JSON.parse(readFileSync(PROJECT, 'utf8')).models.find((m: { name: string }) => m.name === 'cnn_same_maxpool').labels.thresholds;
  const counts = new Map<number, number>();
  for (const line of readFileSync(join(SAMPLES, 'data', 'cpc_nino34_ersst5.txt'), 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 10 || !/^\d{4}$/.test(f[0]) || (f[0] !== '1997' && f[0] !== '1998')) continue;
    const label = th.filter((t) => Number(f[9]) > t).length;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  assert.ok(a.classes.length > 0);
  for (const c of a.classes) assert.equal(c.n, counts.get(c.label) ?? 0, c.name);
  await assert.rejects(analyzeEntry(project, entry, { samples: 2, period: { dates: ['2030-01'] } }), /2030-01 is not on the data's time axis/);
});
