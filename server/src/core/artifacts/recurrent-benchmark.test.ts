/**
 * The recurrent checks on their labelled pairs (samples/benchmark/recurrent-cases.ts), at a size that
 * fits the test suite: one held-out seed, 8 sequences. Every pair: the check fires on the positive case
 * and stays silent on the negative. The full benchmark (8 seeds, thresholds on half of them) is
 * samples/benchmark/recurrent-benchmark.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECURRENT_PAIRS, measureRecurrent } from '../../../../samples/benchmark/recurrent-cases.js';
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
  });
}
