/**
 * The recurrent checks on their labelled pairs (samples/benchmark/recurrent-cases.ts), at a size that
 * fits the test suite: one held-out seed, 8 sequences. Every pair: the check fires on the positive case
 * and stays silent on the negative. The full benchmark (8 seeds, thresholds on half of them) is
 * samples/benchmark/recurrent-benchmark.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECURRENT_PAIRS, measureRecurrent, recurrentTestData } from '../../../../samples/benchmark/recurrent-cases.js';
import { buildRecurrent, variantData } from '../../../../samples/benchmark/recurrent-models.js';
import { predict } from '../model/execute.js';
import type { NdArray } from '../array.js';
import { useBackend } from '../backend.js';

/** A held-out seed of the full benchmark (thresholds were chosen on the odd seeds). */
const SEED = 2;

for (const pair of RECURRENT_PAIRS) {
  test(`${pair.code} on the recurrent benchmark: ${pair.what}`, async (t) => {
    await useBackend('wasm');
    const pos = await measureRecurrent(pair.positive, SEED, 8, !pair.static);
    const neg = await measureRecurrent(pair.negative, SEED, 8, !pair.static);
    const fired = (m: typeof pos) => m.findings.some((f) => f.code === pair.code);
    t.diagnostic(`${pair.code} ${pair.statistic}: positive ${pos.stats[pair.statistic]} (accuracy ${pos.accuracy}), negative ${neg.stats[pair.statistic]} (accuracy ${neg.accuracy})`);
    assert.ok(fired(pos), `${pair.code} fires on ${pair.positive.variant}`);
    assert.ok(!fired(neg), `${pair.code} silent on ${pair.negative.variant}`);
    assert.ok(pos.stats[pair.statistic] > neg.stats[pair.statistic], 'the statistic orders the pair');
    if (pair.code === 'LRP216') {
      // Accuracy in order and reversed, as the check reports it, against the model run on both orders here.
      for (const [c, m] of [[pair.positive, pos], [pair.negative, neg]] as const) {
        const want = accuracies(c.variant, 8);
        t.diagnostic(`${c.variant}: accuracy ${m.stats.orderAccuracy} in order, ${m.stats.reversedAccuracy} reversed`);
        assert.equal(m.stats.orderAccuracy, want.inOrder, `${c.variant} in order`);
        assert.equal(m.stats.reversedAccuracy, want.reversed, `${c.variant} reversed`);
      }
      const f = pos.findings.find((x) => x.code === 'LRP216')!;
      assert.equal(f.data!.accuracy, pos.stats.orderAccuracy);
      assert.equal(f.data!.reversedAccuracy, pos.stats.reversedAccuracy);
      assert.equal(f.data!.labelled, 8);
      // The time-symmetric bidirectional model decides the same both ways, so its accuracy cannot move.
      assert.equal(neg.stats.orderAccuracy, neg.stats.reversedAccuracy);
    }
  });
}

/** The variant's held-out accuracy on its first n sequences, in order and with every sequence's steps reversed. */
function accuracies(variant: string, n: number): { inOrder: number; reversed: number } {
  const { graph } = buildRecurrent(variant, SEED);
  const x = recurrentTestData(variant, n);
  const [, T, F] = x.shape;
  const xs = x.data as Float32Array;
  const rev = new Float32Array(xs.length);
  for (let s = 0; s < n; s++) for (let t = 0; t < T; t++) rev.set(xs.subarray((s * T + t) * F, (s * T + t + 1) * F), (s * T + T - 1 - t) * F);
  const y = variantData(variant).test.y;
  const acc = (data: Float32Array): number => {
    const out = predict(graph, { shape: [n, T, F], data, dtype: 'f4' } as NdArray).data as Float32Array;
    let ok = 0;
    for (let s = 0; s < n; s++) if ((out[2 * s + 1] > out[2 * s] ? 1 : 0) === y[s]) ok++;
    return ok / n;
  };
  return { inOrder: acc(xs), reversed: acc(rev) };
}
