/**
 * The labelled benchmark (issue 4): every relevance-map check on its positive variant and on its
 * negative one (samples/benchmark/cases.ts). A check that separates them must fire on the positive and
 * stay silent on the negative; a check the benchmark showed not to separate is information-only and the
 * test states that instead. Each case prints the relevance share in the signal region ("fact") and in
 * the flagged regions ("artifact").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { PAIRS, modelPath } from '../../../../samples/benchmark/cases.js';
import { measure } from '../../../../samples/benchmark/measure.js';
import { MAP_CHECKS } from './catalogue.js';
import { useBackend } from '../backend.js';

/** Codes whose positive and negative variants the benchmark does not separate (see docs/findings). */
const NOT_SEPARATED = new Set<string>(['LRP206']);

for (const pair of PAIRS) {
  test(`${pair.code} on the benchmark: ${pair.what}`, { skip: !existsSync(modelPath(pair.positive.variant)) && 'benchmark models not generated' }, async (t) => {
    await useBackend('wasm');
    const pos = await measure(pair.positive);
    const neg = await measure(pair.negative);
    const fired = (m: typeof pos) => m.findings.some((f) => f.code === pair.code);
    const line = (name: string, m: typeof pos) =>
      `${pair.code} ${name}: ${pair[name as 'positive'].variant} ${pair[name as 'positive'].composite} fired=${fired(m)} fact=${(100 * m.stats.factShare).toFixed(1)}% artifact=${(100 * m.stats.artifactShare).toFixed(1)}%`;
    t.diagnostic(line('positive', pos));
    t.diagnostic(line('negative', neg));
    const meta = MAP_CHECKS.find((c) => c.meta.code === pair.code)!.meta;
    if (NOT_SEPARATED.has(pair.code)) {
      assert.equal(meta.severity, 'information', 'a check that does not separate its variants only informs');
      assert.equal(fired(pos), fired(neg), 'documented as not separating: both or neither fire');
      return;
    }
    assert.ok(fired(pos), `${pair.code} fires on ${pair.positive.variant}`);
    assert.ok(!fired(neg), `${pair.code} silent on ${pair.negative.variant}`);
  });
}

/**
 * The controlled checks on a held-out seed of the seeded benchmark (the full one, over seeds and
 * composites with thresholds chosen on the calibration seeds, is samples/benchmark/seeded-benchmark.ts):
 * the check fires on the positive and not on the negative under each composite, and its finding carries
 * the statistic, the control's statistic and the p-value.
 */
const HELD_OUT_SEED = 2;
const CONTROLLED: [code: string, positive: string, negative: string, silent: 'absent' | 'no warning'][] = [
  ['LRP203', 'stride2-k3', 'stride2-k4', 'absent'],
  ['LRP204', 'pool-max', 'pool-avg', 'absent'],
  // Valid padding has no twin: LRP202 may note its border against the randomized model, as information only.
  ['LRP202', 'pad-same', 'pad-valid', 'no warning'],
];
for (const [code, positive, negative, silent] of CONTROLLED) {
  for (const composite of ['epsilon', 'epsilon-plus-flat']) {
    test(`${code} against its control on held-out seed ${HELD_OUT_SEED}, ${composite}: ${positive} yes, ${negative} no`, { skip: !existsSync(modelPath(positive, HELD_OUT_SEED)) && 'seeded models not generated' }, async (t) => {
      await useBackend('wasm');
      const pos = await measure({ variant: positive, composite }, 12, HELD_OUT_SEED);
      const neg = await measure({ variant: negative, composite }, 12, HELD_OUT_SEED);
      const f = pos.findings.find((x) => x.code === code);
      t.diagnostic(`${code} ${composite}: ${JSON.stringify(f?.data ?? {})}`);
      assert.ok(f, `${code} fires on ${positive}-s${HELD_OUT_SEED}`);
      assert.ok(!neg.findings.some((x) => x.code === code && (silent === 'absent' || x.severity !== 'information')), `${code} silent on ${negative}-s${HELD_OUT_SEED}`);
      assert.equal(f!.severity, 'warning');
      for (const k of ['statistic', 'controlStatistic', 'effectSize', 'pValue']) assert.equal(typeof f!.data?.[k], 'number', `data.${k}`);
      assert.ok((f!.data!.pValue as number) < 0.01);
    });
  }
}

/** Static checks on the benchmark variants: each architecture artifact is flagged on its variant only. */
const STATIC_PAIRS: [code: string, positive: string, negative: string, composite?: string][] = [
  ['LRP101', 'pad-same', 'pad-valid'],
  ['LRP102', 'stride2-k3', 'stride2-k4'],
  ['LRP103', 'pool-max', 'pool-avg'],
  ['LRP104', 'bn-after', 'bn-before'],
  ['LRP107', 'mlp-linear', 'mlp-relu'],
  ['LRP110', 'mlp-relu', 'stride1-k3'],
  ['LRP112', 'deep-cnn', 'stride1-k3', 'epsilon-plus'],
];

for (const [code, positive, negative, composite] of STATIC_PAIRS) {
  test(`${code} (static) on the benchmark: ${positive} yes, ${negative} no`, { skip: !existsSync(modelPath(positive)) && 'benchmark models not generated' }, async () => {
    const { loadModel } = await import('../model/load.js');
    const { runStaticChecks } = await import('./catalogue.js');
    const has = async (v: string) => runStaticChecks(await loadModel(modelPath(v)), { composite }).some((f) => f.code === code);
    assert.ok(await has(positive), positive);
    assert.ok(!(await has(negative)), negative);
  });
}

test('collecting the map context leaves no tensors behind', { skip: !existsSync(modelPath('pool-max')) && 'benchmark models not generated' }, async () => {
  await useBackend('wasm');
  const { tf } = await import('../backend.js');
  await measure({ variant: 'pool-max', composite: 'epsilon' }, 4); // warm-up: kernels and caches
  const before = tf.memory().numTensors;
  await measure({ variant: 'pool-max', composite: 'epsilon' }, 4);
  assert.equal(tf.memory().numTensors, before);
});
