/**
 * One model, one data set, one answer: `lrp-lens check`/`explain` (the CLI's run functions), the
 * language server's checkData/explain jobs and the report's analysis ask the same session
 * (core/session/), so they give the same findings and the same maps. On a real sample model of
 * samples/lrp-lens.json whose entry chooses epsilon-gamma-box (the project-composite case: the server's
 * setting says epsilon-plus; the ZBox bounds come from the data), and on a raw .npy.
 * Regression tests of the drift issue 13 lists: the server's data check dropped the entry's composite
 * and the user's parameters, and it and the report boxed the first layer at -3..3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, REF, scratchDir } from '../testing/paths.js';
import { readNpyFile } from '../testing/arrays.js';
import { writeNpy } from '../core/data/npy.js';
import { toFloat32 } from '../core/array.js';
import { writeFileSync } from 'node:fs';
import { checkPaths, run as checkCli } from './check.js';
import { run as explainCli } from './explain.js';
import { checkDataJob } from '../lsp/check-data-job.js';
import { explainJob, jobSession } from '../lsp/explain-job.js';
import { getGraph } from '../lsp/analyzer.js';
import type { JobContext } from '../lsp/jobs.js';
import { decodeArray, type FindingSummary } from '../protocol.js';
import { analyzeEntry, loadEntry } from '../core/report/analyze.js';
import { findEntry, readProject } from '../core/data/project.js';
import { pickByLabel } from '../core/session/samples.js';
import { batchToGrid } from '../core/session/data-grid.js';
import { explainerOptions } from '../core/session/session.js';
import { dataRange } from '../core/session/bounds.js';
import type { Finding } from '../core/artifacts/finding.js';

const PROJECT = join(SAMPLES, 'lrp-lens.json');
const NAME = 'cnn_same_maxpool';
const MODEL = join(SAMPLES, 'models', NAME, 'model.json');
const skip = !existsSync(MODEL) && 'sample models not built';
const ctx: JobContext = { progress() {}, cancelled: () => false, checkCancelled() {} };
/** The server's default backend: LRP on ONNX Runtime where the model lowers, as the CLI's default and the report. */
const config = { backend: 'auto' as const };
const dir = scratchDir('session-drift');
/** The server's default setting: the entry's epsilon-gamma-box must win over it. */
const SETTING = { name: 'epsilon-plus', params: {} };

/** What a finding says, whichever front end reports it. */
const said = (f: Finding | FindingSummary) => ({ code: f.code, severity: f.severity, message: f.message, layer: f.layer?.name, data: f.data });
const mapOnly = (fs: (Finding | FindingSummary)[]) => fs.filter((f) => /^LRP2/.test(f.code)).map(said);

/** Runs `lrp-lens explain ARGS --json` in-process: its JSON report. */
async function explainJson(args: string[]): Promise<Record<string, unknown>> {
  let out = '';
  assert.equal(await explainCli([...args, '--json'], (s) => void (out += s)), 0);
  return JSON.parse(out) as Record<string, unknown>;
}

test('checkData, `lrp-lens check --config` and the report judge the sample CNN alike: entry composite, data bounds, same findings', { skip, timeout: 600_000 }, async () => {
  const cli = await checkPaths([MODEL], { config: PROJECT });
  assert.equal(cli.inputs[0].composite, 'epsilon-gamma-box');
  assert.equal(cli.inputs[0].boundsFrom, 'data');
  const server = (await checkDataJob({ file: MODEL, params: { model: MODEL }, composite: SETTING, compositeExplicit: false, projectFile: PROJECT, settings: { disabledChecks: [] } }, ctx, config)).findings;
  assert.ok(mapOnly(cli.findings).length > 0, 'the CLI reports map findings');
  assert.deepEqual(mapOnly(server), mapOnly(cli.findings));

  // The report: its own samples (each class's picks), the same session; the server checking those samples agrees.
  const project = await readProject(PROJECT);
  const entry = findEntry(project, NAME);
  const a = await analyzeEntry(project, entry, { samples: 4 });
  assert.equal(a.composite, 'epsilon-gamma-box');
  const { input, session } = await loadEntry(project, entry);
  assert.deepEqual(session.bounds, { low: cli.inputs[0].bounds![0], high: cli.inputs[0].bounds![1], from: 'data' });
  const picks = a.classes.flatMap((c) => pickByLabel(input.labels!, c.label, 4));
  const onPicks = (await checkDataJob({ file: MODEL, params: { model: MODEL, samples: { indices: picks, maxSamples: picks.length } }, composite: SETTING, compositeExplicit: false, projectFile: PROJECT, settings: { disabledChecks: [] } }, ctx, config)).findings;
  assert.deepEqual(mapOnly(onPicks), mapOnly(a.mapFindings));
  assert.deepEqual(a.staticFindings.map(said), cli.findings.filter((f) => !/^LRP2/.test(f.code)).map(said));

  // The test can tell composites apart: under the setting's epsilon-plus the same data give other findings.
  const other = (await checkDataJob({ file: MODEL, params: { model: MODEL, composite: 'epsilon-plus' }, composite: SETTING, compositeExplicit: true, projectFile: PROJECT, settings: { disabledChecks: [] } }, ctx, config)).findings;
  assert.notDeepEqual(mapOnly(other), mapOnly(server));
});

test('explain: the CLI, the server\'s explain job and the report\'s class maps are the same numbers', { skip, timeout: 600_000 }, async () => {
  const out = join(dir, 'r_cnn.npy');
  const j = await explainJson([MODEL, '--config', PROJECT, '--model', NAME, '--target', '2', '--out', out]);
  assert.equal((j.engine as { name: string }).name, 'onnxruntime', 'the CLI explains on its default engine');
  const bounds = j.bounds as { low: number; high: number; from: string };
  assert.equal(j.composite, 'epsilon-gamma-box');
  assert.equal(bounds.from, 'data');
  const r = readNpyFile(out);
  const rel = toFloat32(r);
  const per = rel.length / r.shape[0];

  const project = await readProject(PROJECT);
  const entry = findEntry(project, NAME);
  const { input, session } = await loadEntry(project, entry);
  const elNino = input.classNames!.indexOf('El Nino');
  const idx = pickByLabel(input.labels!, elNino, 4);
  const rows = new Float32Array(idx.length * per);
  idx.forEach((s, k) => rows.set(rel.subarray(s * per, (s + 1) * per), k * per));

  const server = await explainJob({ file: MODEL, params: { model: MODEL, samples: { indices: idx }, target: 2 }, composite: SETTING, compositeExplicit: false, projectFile: PROJECT }, ctx, config);
  assert.equal(server.composite.name, j.composite);
  assert.equal(server.backend, 'onnxruntime', 'the server explains on the same engine');
  assert.deepEqual([server.composite.params?.low, server.composite.params?.high], [bounds.low, bounds.high]);
  assert.deepEqual(decodeArray(server.relevance), rows);

  // The report's El Nino map is the mean of these samples' maps on the data grid.
  const a = await analyzeEntry(project, entry, { samples: 4 });
  const cls = a.classes.find((c) => c.label === elNino)!;
  assert.equal(cls.output, 2);
  const maps = batchToGrid(a.grid, rows, idx.length);
  const want = new Float64Array(maps[0].length);
  for (const m of maps) for (let i = 0; i < m.length; i++) want[i] += m[i];
  for (let i = 0; i < want.length; i++) want[i] /= maps.length;
  // Equal to the last bit: the report explains on ONNX Runtime too (the tfjs engine differs by float32 rounding).
  assert.deepEqual(cls.mean, want);
  assert.deepEqual(explainerOptions(session), { composite: 'epsilon-gamma-box', low: bounds.low, high: bounds.high });
});

test('a raw .npy with epsilon-gamma-box: the CLI and the server box the first layer at the array\'s range and agree', { timeout: 300_000 }, async () => {
  const model = join(REF, 'cnn_same', 'model.h5');
  const x = readNpyFile(join(REF, 'cnn_same', 'x_nhwc.npy'));
  const npy = join(dir, 'x_box.npy');
  writeFileSync(npy, writeNpy(toFloat32(x), x.shape));
  const out = join(dir, 'r_box.npy');
  const j = await explainJson([model, '--input', npy, '--composite', 'epsilon-gamma-box', '--out', out]);
  const [lo, hi] = dataRange(toFloat32(x));
  assert.deepEqual(j.bounds, { low: lo, high: hi, from: 'data' });
  const server = await explainJob({ file: model, params: { model, samples: { data: npy }, composite: 'epsilon-gamma-box' }, composite: { name: 'epsilon-gamma-box', params: {} }, compositeExplicit: true }, ctx, config);
  assert.deepEqual([server.composite.params?.low, server.composite.params?.high], [lo, hi]);
  assert.deepEqual(decodeArray(server.relevance), toFloat32(readNpyFile(out)));
});

test('the server\'s jobs take the user\'s composite parameters (they were dropped by checkData) and the entry\'s composite', { skip }, async () => {
  const graph = await getGraph(MODEL);
  const withParams = await jobSession({ file: MODEL, params: { model: MODEL, composite: { name: 'epsilon-gamma-box', params: { low: -1, high: 1, gamma: 0.5, epsilon: 0.01 } } }, composite: SETTING, compositeExplicit: true, projectFile: PROJECT }, graph);
  assert.deepEqual(explainerOptions(withParams), { composite: 'epsilon-gamma-box', epsilon: 0.01, gamma: 0.5, low: -1, high: 1 });
  // A bare name in the request: the settings' parameters apply (the server sends them with it).
  const bare = await jobSession({ file: MODEL, params: { model: MODEL, composite: 'epsilon-plus' }, composite: { name: 'epsilon-plus', params: { epsilon: 0.2 } }, compositeExplicit: true, projectFile: PROJECT }, graph);
  assert.deepEqual(explainerOptions(bare), { composite: 'epsilon-plus', epsilon: 0.2 });
  // No composite in the request: the entry's, over the setting's.
  const none = await jobSession({ file: MODEL, params: { model: MODEL }, composite: SETTING, compositeExplicit: false, projectFile: PROJECT }, graph);
  assert.equal(none.choice.composite, 'epsilon-gamma-box');
  assert.equal(none.choice.from.composite, 'project');
  assert.equal(JSON.parse(readFileSync(PROJECT, 'utf8')).models.find((m: { name: string }) => m.name === NAME).explain.composite, 'epsilon-gamma-box');
});

test('`check --low/--high` (a usage error before) and checkData with the same composite parameters give the same findings', { timeout: 300_000 }, async () => {
  const model = join(REF, 'cnn_same', 'model.h5');
  const npy = join(REF, 'cnn_same', 'x_nhwc.npy');
  let out = '';
  const code = await checkCli([model, '--data', npy, '--select', 'dim_0=0:4', '--composite', 'epsilon-gamma-box', '--low', '-1', '--high', '1', '--gamma', '0.5', '--format', 'json'], (s) => void (out += s));
  const cli = JSON.parse(out) as { findings: Finding[]; inputs: { bounds: number[]; boundsFrom: string; composite: string }[] };
  assert.equal(code, cli.findings.some((f) => f.severity === 'error') ? 1 : 0);
  assert.deepEqual([cli.inputs[0].bounds, cli.inputs[0].boundsFrom, cli.inputs[0].composite], [[-1, 1], 'given', 'epsilon-gamma-box']);
  const server = (await checkDataJob({ file: model, params: { model, samples: { data: npy, indices: [0, 1, 2, 3] }, composite: { name: 'epsilon-gamma-box', params: { low: -1, high: 1, gamma: 0.5 } } }, composite: { name: 'epsilon-gamma-box', params: { low: -1, high: 1, gamma: 0.5 } }, compositeExplicit: true, settings: { disabledChecks: [] } }, ctx, config)).findings;
  assert.ok(mapOnly(cli.findings).length > 0);
  assert.deepEqual(mapOnly(server), mapOnly(cli.findings));
});

test('the method axis: `explain --method gradient` and the server\'s old spelling (composite "gradient") give the same map', { timeout: 300_000 }, async () => {
  const model = join(REF, 'cnn_same', 'model.h5');
  const npy = join(REF, 'cnn_same', 'x_nhwc.npy');
  const out = join(dir, 'r_grad.npy');
  const j = await explainJson([model, '--input', npy, '--method', 'gradient', '--target', '1', '--out', out]);
  assert.equal(j.composite, 'gradient');
  const server = await explainJob({ file: model, params: { model, samples: { data: npy }, composite: 'gradient', target: 1 }, composite: { name: 'gradient', params: {} }, compositeExplicit: true }, ctx, config);
  assert.equal(server.composite.name, 'gradient');
  assert.deepEqual(decodeArray(server.relevance), toFloat32(readNpyFile(out)));
  assert.ok(toFloat32(readNpyFile(out)).some((v) => v !== 0));
});
