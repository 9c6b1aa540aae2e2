/**
 * foldContext on wrapped-longitude inputs: every map the checks read is folded back onto the data's grid,
 * the controls included (geometry, pooling twin, randomized classes, gradient x input), so a check reads
 * a control at the folded map's offsets. Before, the average-pooling twin stayed unfolded and LRP204's
 * remedy twin was skipped on a wrapped model. The same for a flatten "valid" input scattered onto the grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../testing/paths.js';
import { modelPath } from '../../../../samples/benchmark/cases.js';
import { measure } from '../../../../samples/benchmark/measure.js';
import { useBackend } from '../backend.js';
import { runMapChecks } from '../artifacts/catalogue.js';
import { remedyTwins } from '../artifacts/remedy-twins.js';
import { findEntry, readProject } from '../data/project.js';
import { foldWrap, type DisplayGrid } from './data-grid.js';
import { foldContext } from './fold-context.js';
import { explainerOptions, openSession } from './session.js';
import { onDataGrid } from './grid-checks.js';
import { addRuleTwins } from '../artifacts/remedy-twins-rule.js';
import type { Finding } from '../artifacts/finding.js';
import { checkMaps } from './check-maps.js';

const WRAP = 4;

test('a max-pool model read as wrapped (4 columns each side): the average-pooling twin is folded with the map, LRP204 shows its twin', { skip: !existsSync(modelPath('pool-max')) && 'benchmark models not generated' }, async () => {
  await useBackend('wasm');
  const m = await measure({ variant: 'pool-max', composite: 'epsilon' }, 16);
  const [H, Wext] = m.ctx.shape;
  const w = Wext - 2 * WRAP;
  const g: DisplayGrid = {
    h: H, w, lat: Array.from({ length: H }, (_, i) => i), lon: Array.from({ length: w }, (_, i) => i),
    inputDims: ['lat', 'lon'], inputShape: [H, Wext], channels: 1, wrapLon: WRAP,
  };
  const folded = foldContext(m.ctx, g);
  const cells = m.ctx.n * H * w;
  assert.equal(folded.relevance.length, cells);
  const c = folded.controls!;
  for (const [k, v] of [['poolTwin', c.poolTwin?.relevance], ['geometry', c.geometry], ['randomizedTop', c.randomizedTop], ['randomizedRunnerUp', c.randomizedRunnerUp], ['gradientInput', c.gradientInput]] as const) {
    assert.equal(v?.length, cells, k);
  }
  assert.deepEqual(c.poolTwin!.relevance, foldWrap(g, m.ctx.controls!.poolTwin!.relevance, m.ctx.n, 1, true));
  assert.equal(c.poolTwin!.name, m.ctx.controls!.poolTwin!.name);
  const findings = runMapChecks(folded);
  const f = findings.find((x) => x.code === 'LRP204');
  assert.equal(f?.severity, 'warning', f?.message);
  const t = remedyTwins(folded, findings).find((x) => x.code === 'LRP204');
  assert.ok(t, 'the LRP204 twin is shown on the folded context');
  assert.equal(t.relevance, c.poolTwin!.relevance);
  assert.equal(t.twinStatistic, f!.data!.controlStatistic);
});

test('the wrapped sample model (cnn_valid_wrap_avgpool, 4 columns each side): every control the checks read is on the data grid', async () => {
  await useBackend('wasm');
  const file = join(REPO, 'samples/models/cnn_valid_wrap_avgpool/model.h5');
  const project = await readProject(join(REPO, 'samples/lrp-lens.json'));
  const s = await openSession({ model: file, data: { kind: 'project', project, entry: findEntry(project, file) } });
  const { ctx, raw, x, grid } = await checkMaps(s, { maxSamples: 8 });
  const cells = ctx.n * ctx.shape.reduce((a, b) => a * b, 1);
  assert.ok(raw.relevance.length > cells, 'the model input is wider than the grid (wrapped)');
  assert.equal(ctx.relevance.length, cells);
  const maps = Object.entries(ctx.controls ?? {});
  assert.ok(maps.length >= 3, maps.map(([k]) => k).join(', '));
  for (const [k, v] of maps) assert.equal((v as Float32Array).length ?? (v as { relevance: Float32Array }).relevance.length, cells, k);
  // A first-layer rule twin (LRP208's: epsilon for the z-box first layer of epsilon-gamma-box) is made in
  // the model's layout and judged on the folded grid, like the user's map.
  const { composite, ...explainer } = explainerOptions(s);
  const f: Finding = { code: 'LRP208', severity: 'warning', message: '', remedy: '', docs: '', location: { file }, data: { similarity: 1 } };
  addRuleTwins(raw, ctx, [f], { graph: s.graph, x, opts: { ...explainer, composite } }, (c) => onDataGrid(c, s.data!, grid));
  const rawTwin = raw.controls!.ruleTwins!.LRP208, twin = ctx.controls!.ruleTwins!.LRP208;
  assert.match(twin.name, /epsilon on \S+ instead of zbox/);
  assert.equal(rawTwin.relevance.length, raw.relevance.length);
  assert.equal(twin.relevance.length, cells);
  assert.deepEqual(twin.relevance, foldWrap(grid!, rawTwin.relevance, raw.n, raw.shape[2], true));
  assert.equal(rawTwin.statistic, twin.statistic);
  assert.ok(Number.isFinite(twin.statistic) && twin.statistic < 0.5, `${twin.statistic}`);
  assert.equal(remedyTwins(ctx, [f])[0].relevance, twin.relevance);
});

// The same for a flatten "valid" input (scatter-context.ts): an MLP on the ocean cells, its maps scattered
// back onto the grid; the controls (randomized classes for LRP206, gradient x input for LRP210) with them.
test('the MLP on ocean cells (mlp_linear, flatten valid): every control the checks read is scattered onto the grid with the map', async () => {
  await useBackend('wasm');
  const file = join(REPO, 'samples/models/mlp_linear/model.h5');
  const project = await readProject(join(REPO, 'samples/lrp-lens.json'));
  const s = await openSession({ model: file, data: { kind: 'project', project, entry: findEntry(project, file) } });
  const { ctx, raw } = await checkMaps(s, { maxSamples: 8 });
  const cells = ctx.n * ctx.shape.reduce((a, b) => a * b, 1);
  assert.ok(raw.relevance.length < cells, 'the model reads the ocean cells only');
  const maps = Object.entries(ctx.controls ?? {});
  assert.ok(maps.length >= 3, maps.map(([k]) => k).join(', '));
  for (const [k, v] of maps) assert.equal((v as Float32Array).length, cells, k);
  // Each control is the raw one put on its cells: the same total |R| per sample.
  const total = (a: Float32Array) => a.reduce((t, v) => t + Math.abs(v), 0);
  assert.ok(Math.abs(total(ctx.controls!.gradientInput!) - total(raw.controls!.gradientInput!)) <= 1e-4 * total(raw.controls!.gradientInput!));
});
