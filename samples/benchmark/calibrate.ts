/**
 * Prints the benchmark figures behind the relevance-map thresholds: each check's statistic on its
 * positive and negative variant, and the fact/artifact shares; writes calibration.json next to it.
 * Run (after make-benchmark.ts): npx tsx samples/benchmark/calibrate.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../server/src/core/backend.js';
import { BENCH_DIR, PAIRS } from './cases.js';
import { measure } from './measure.js';

const STAT: Record<string, string> = {
  LRP201: 'conservationGap', LRP202: 'bandFactor', LRP203: 'phaseAlignment', LRP204: 'roughnessFactor', LRP205: 'negativeShare', LRP206: 'classSimilarity',
  LRP207: 'randomizedSimilarity', LRP208: 'blankSimilarity', LRP209: 'maskedShare', LRP210: 'inputCorrelation', LRP211: 'conservationGap',
};

async function main(): Promise<void> {
  await useBackend('wasm');
  const only = process.argv.slice(2);
  const out: Record<string, unknown> = {};
  for (const pair of PAIRS) {
    if (only.length && !only.includes(pair.code)) continue;
    const row: Record<string, unknown> = { what: pair.what, statistic: STAT[pair.code] };
    for (const side of ['positive', 'negative'] as const) {
      const m = await measure(pair[side]);
      row[side] = { case: pair[side], fired: m.findings.filter((f) => f.code === pair.code).map((f) => f.severity), allFired: [...new Set(m.findings.map((f) => f.code))], stats: m.stats };
      const s = m.stats;
      process.stdout.write(`${pair.code} ${side.padEnd(8)} ${pair[side].variant.padEnd(11)} ${pair[side].composite.padEnd(13)} ${STAT[pair.code]}=${s[STAT[pair.code]].toPrecision(3)} fired=${m.findings.some((f) => f.code === pair.code)} fact=${(100 * s.factShare).toFixed(1)}% artifact=${(100 * s.artifactShare).toFixed(1)}% [band ${s.bandRatio.toPrecision(3)} vs ${s.controlBandRatio.toPrecision(3)} (x${s.bandFactorRandomized.toPrecision(3)} vs randomized), phase ${s.phaseRatio2.toPrecision(3)}, zeros ${(100 * s.zeroShare).toFixed(2)}%, gini ${s.gini.toPrecision(3)}, neg ${(100 * s.negativeShare).toFixed(1)}%, cos ${s.cosineRunnerUp.toPrecision(3)}, rnd ${s.randomizedSimilarity.toPrecision(3)}, blank ${s.blankSimilarity.toPrecision(3)}, |x| ${s.inputCorrelation.toPrecision(3)}, gap ${s.conservationGap.toPrecision(3)}]\n`);
    }
    out[pair.code] = row;
  }
  writeFileSync(join(BENCH_DIR, only.length ? `calibration-${only.join('-')}.json` : 'calibration.json'), JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
