/**
 * The first-layer rule twins (remedy-twins-rule.ts) on the benchmark's positive cases: a flat first layer
 * (LRP207, LRP208) gets the epsilon twin, whose map no longer survives randomization nor copies the blank
 * input's; the linear MLP whose map copies |x| (LRP210) gets the w-square twin, which copies it less. The
 * twin statistic is the check's own statistic recomputed on the twin's maps; the negatives get none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../testing/paths.js';
import { loadModel } from '../model/load.js';
import { rulesFor } from './composite-rules.js';
import { modelPath, PAIRS } from '../../../../samples/benchmark/cases.js';
import { measure, testData } from '../../../../samples/benchmark/measure.js';
import { useBackend } from '../backend.js';
import { addRuleTwins, firstLayerRemedy } from './remedy-twins-rule.js';
import { markRemedyTwins, remedyTwins } from './remedy-twins.js';
import { meta as lrp207, randomizationSimilarities } from './checks/lrp207-randomization.js';
import { blankSimilarity, meta as lrp208 } from './checks/lrp208-blank-prior.js';
import { meta as lrp210 } from './checks/lrp210-input-copy.js';

const skip = !existsSync(modelPath('mlp-relu')) && 'benchmark models not generated';
const N = 16;
const positive = (code: string) => PAIRS.find((p) => p.code === code)!.positive;

test('flat first layer (LRP207 and LRP208 warnings) gets the epsilon first-layer twin: both statistics recomputed, below the thresholds', { skip }, async () => {
  await useBackend('wasm');
  const c = positive('LRP207');
  assert.deepEqual(positive('LRP208'), c, 'the benchmark pairs share the positive case');
  const m = await measure(c, N);
  const f207 = m.findings.find((f) => f.code === 'LRP207'), f208 = m.findings.find((f) => f.code === 'LRP208');
  assert.equal(f207?.severity, 'warning');
  assert.equal(f208?.severity, 'warning');
  addRuleTwins(m.ctx, m.ctx, m.findings, { graph: m.ctx.graph, x: testData(N).x, opts: { composite: c.composite, ruleMap: c.ruleMap } }, (x) => x);
  const twins = m.ctx.controls!.ruleTwins!;
  for (const code of ['LRP207', 'LRP208']) {
    assert.match(twins[code].name, /^epsilon first-layer twin \(epsilon on \S+ instead of flat/);
    assert.equal(twins[code].relevance.length, m.ctx.relevance.length);
  }
  // One pass serves both (same rule).
  assert.equal(twins.LRP207.relevance, twins.LRP208.relevance);
  assert.ok(twins.LRP207.statistic < lrp207.thresholds.similarity, `LRP207 twin ${twins.LRP207.statistic}`);
  assert.ok(twins.LRP208.statistic < lrp208.thresholds.similarity, `LRP208 twin ${twins.LRP208.statistic}`);
  // The twin is the negative case: the same model under plain epsilon, whose checks stay silent.
  const neg = await measure(PAIRS.find((p) => p.code === 'LRP207')!.negative, N);
  assert.ok(!neg.findings.some((f) => f.code === 'LRP207' || f.code === 'LRP208'));
  const maxDiff = twins.LRP207.relevance.reduce((d, v, i) => Math.max(d, Math.abs(v - neg.ctx.relevance[i])), 0);
  assert.ok(maxDiff <= 1e-5 * Math.max(...neg.ctx.relevance.map(Math.abs)), `twin vs epsilon map: ${maxDiff}`);
  // The same statistics as the checks compute on that context (its randomized step and blank map made by collect.ts).
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-5, `${a} vs ${b}`);
  close(twins.LRP207.statistic, randomizationSimilarities(neg.ctx).at(-1)!.similarity);
  close(twins.LRP208.statistic, blankSimilarity(neg.ctx));
  // Shown with the twin and written into the findings' data.
  markRemedyTwins(m.ctx, m.findings);
  const shown = remedyTwins(m.ctx, m.findings);
  for (const code of ['LRP207', 'LRP208']) {
    const t = shown.find((x) => x.code === code)!;
    const f = m.findings.find((x) => x.code === code)!;
    assert.equal(t.statistic, f.data!.similarity);
    assert.equal(t.twinStatistic, twins[code].statistic);
    assert.equal(f.data!.remedyTwin, twins[code].name);
    assert.equal(f.data!.remedyTwinStatistic, twins[code].statistic);
    assert.ok(t.statistic > t.twinStatistic);
  }
});

test('the linear MLP copying |x| (LRP210 warning) gets the w-square first-layer twin, which copies it less', { skip }, async () => {
  await useBackend('wasm');
  const c = positive('LRP210');
  const m = await measure(c, N);
  const f = m.findings.find((x) => x.code === 'LRP210');
  assert.equal(f?.severity, 'warning');
  addRuleTwins(m.ctx, m.ctx, m.findings, { graph: m.ctx.graph, x: testData(N).x, opts: { composite: c.composite } }, (x) => x);
  const t = m.ctx.controls!.ruleTwins!.LRP210;
  assert.match(t.name, /^w-square first-layer twin \(w-square on \S+ instead of epsilon/);
  assert.ok(Number.isFinite(t.statistic) && t.statistic < lrp210.thresholds.correlation, `${t.statistic}`);
  assert.ok(t.statistic < (f!.data!.correlation as number));
  markRemedyTwins(m.ctx, m.findings);
  assert.equal(f!.data!.remedyTwinStatistic, t.statistic);
});

test('no first-layer twin where the remedy does not apply: the negatives, an epsilon first layer under LRP207', { skip }, async () => {
  await useBackend('wasm');
  const neg = PAIRS.find((p) => p.code === 'LRP207')!.negative;
  const m = await measure(neg, N);
  addRuleTwins(m.ctx, m.ctx, m.findings, { graph: m.ctx.graph, x: testData(N).x, opts: { composite: neg.composite } }, (x) => x);
  assert.equal(m.ctx.controls?.ruleTwins, undefined);
  assert.equal(firstLayerRemedy('LRP207', m.ctx.graph, m.ctx.rules), undefined);
  assert.equal(firstLayerRemedy('LRP208', m.ctx.graph, m.ctx.rules), undefined);
  assert.equal(firstLayerRemedy('LRP210', m.ctx.graph, m.ctx.rules)?.rule, 'w-square');
  assert.equal(firstLayerRemedy('LRP202', m.ctx.graph, m.ctx.rules), undefined);
});

test('no first-layer twin for a recurrent model: its first Dense is not the layer that reads the input', async () => {
  const file = join(REPO, 'samples/models/lstm_columns/model.h5');
  const graph = await loadModel(file);
  const rules = Object.fromEntries(rulesFor(graph, 'epsilon')!);
  assert.ok(graph.nodes.some((n) => n.kind === 'Recurrent') && graph.nodes.some((n) => n.kind === 'Dense'));
  for (const code of ['LRP207', 'LRP208', 'LRP210']) assert.equal(firstLayerRemedy(code, graph, rules), undefined, code);
});
