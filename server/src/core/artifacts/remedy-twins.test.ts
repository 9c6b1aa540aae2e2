/**
 * The remedy twins (remedy-twins.ts) on the benchmark's models: a warning whose remedy the project
 * builds as a twin carries the twin's maps of the same samples and the check's statistic on both, the
 * same numbers as the finding; a model without the artifact gets no twin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { modelPath } from '../../../../samples/benchmark/cases.js';
import { measure } from '../../../../samples/benchmark/measure.js';
import { useBackend } from '../backend.js';
import { remedyTwins, twinShareMaps } from './remedy-twins.js';

const skip = !existsSync(modelPath('pool-max')) && 'benchmark models not generated';

test('max pooling (LRP204 warning) gets its average-pooling twin: same statistic as the finding, maps of |R| shares', { skip }, async () => {
  await useBackend('wasm');
  const m = await measure({ variant: 'pool-max', composite: 'epsilon' }, 8);
  const f = m.findings.find((x) => x.code === 'LRP204');
  assert.equal(f?.severity, 'warning', f?.message);
  const t = remedyTwins(m.ctx, m.findings).find((x) => x.code === 'LRP204')!;
  assert.match(t.name, /average-pooling twin/);
  assert.equal(t.relevance, m.ctx.controls!.poolTwin!.relevance);
  assert.equal(t.statistic, f!.data!.statistic);
  assert.equal(t.twinStatistic, f!.data!.controlStatistic);
  assert.ok(t.statistic > t.twinStatistic, `${t.statistic} vs ${t.twinStatistic}`);
  const s = twinShareMaps(m.ctx, t);
  assert.equal(s.height * s.width, m.ctx.shape[0] * m.ctx.shape[1]);
  const sum = (a: Float32Array) => a.reduce((x, y) => x + y, 0);
  // Each sample's |R| normalized to 1, averaged: the shares sum to 1 (float32 accumulation).
  assert.ok(Math.abs(sum(s.user) - 1) < 1e-4 && Math.abs(sum(s.twin) - 1) < 1e-4, `${sum(s.user)} ${sum(s.twin)}`);
  assert.ok(s.user.some((v, i) => Math.abs(v - s.twin[i]) > 1e-6), 'the twin map differs from the model\'s');
});

test('same padding (LRP202 warning) gets its valid twin; average pooling and valid padding get none', { skip }, async () => {
  await useBackend('wasm');
  const same = await measure({ variant: 'pad-same', composite: 'epsilon' }, 8);
  const f = same.findings.find((x) => x.code === 'LRP202');
  assert.equal(f?.severity, 'warning', f?.message);
  const t = remedyTwins(same.ctx, same.findings).find((x) => x.code === 'LRP202')!;
  assert.match(t.name, /valid twin/);
  assert.equal(t.statistic, f!.data!.ratio);
  assert.equal(t.twinStatistic, f!.data!.control);
  for (const variant of ['pool-avg', 'pad-valid']) {
    const m = await measure({ variant, composite: 'epsilon' }, 8);
    assert.deepEqual(remedyTwins(m.ctx, m.findings).map((x) => x.code).filter((c) => c === 'LRP202' || c === 'LRP204'), [], variant);
  }
});
