/**
 * The report's "Without the artifact" figure for a first-layer rule twin, on the wrapped sample CNN
 * (cnn_valid_wrap_avgpool, epsilon-gamma-box: a z-box first layer): its LRP208 warning carries the
 * epsilon first-layer twin, the same name and statistic in the finding's data as in the report's twin,
 * the twin's map on the data grid, and the figure drawn with both statistics in its caption.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SAMPLES } from '../../testing/paths.js';
import { useBackend } from '../backend.js';
import { findEntry, readProject } from '../data/project.js';
import { analyzeEntry } from './analyze.js';
import { modelFigures } from './figures.js';
import { meta as lrp208 } from '../artifacts/checks/lrp208-blank-prior.js';

test('the wrapped CNN\'s LRP208 warning (z-box first layer) is drawn beside its epsilon first-layer twin, the numbers of its finding', { timeout: 300_000 }, async () => {
  await useBackend('wasm');
  const project = await readProject(join(SAMPLES, 'lrp-lens.json'));
  const a = await analyzeEntry(project, findEntry(project, 'cnn_valid_wrap_avgpool'), { samples: 32 });
  const f = a.mapFindings.find((x) => x.code === 'LRP208');
  assert.equal(f?.severity, 'warning', a.mapFindings.map((x) => x.code).join(', '));
  const t = a.twins.find((x) => x.code === 'LRP208');
  assert.ok(t, `twins: ${a.twins.map((x) => x.code)}`);
  assert.match(t.name, /^epsilon first-layer twin \(epsilon on \S+ instead of zbox\)$/);
  assert.equal(f.data!.remedyTwin, t.name);
  assert.equal(f.data!.remedyTwinStatistic, t.twinStatistic);
  assert.equal(t.statistic, f.data!.similarity);
  assert.ok(t.statistic > lrp208.thresholds.similarity && t.twinStatistic < lrp208.thresholds.similarity, `${t.statistic} -> ${t.twinStatistic}`);
  assert.equal(t.absShare.length, a.trainedAbs.length);
  assert.ok(t.absShare.some((v, i) => Math.abs(v - a.trainedAbs[i]) > 1e-9), 'the twin\'s map differs');
  const fig = (await modelFigures(a)).find((x) => x.name.endsWith('-remedy-LRP208.png'));
  assert.ok(fig && fig.png.length > 1000);
  assert.match(fig.caption, /epsilon first-layer twin/);
  assert.ok(fig.caption.includes(`${Number(t.statistic.toPrecision(3))} for the model, ${Number(t.twinStatistic.toPrecision(3))} for the twin`), fig.caption);
});
