/**
 * The recurrent checks' benchmark: every pair of recurrent-cases.ts on 8 seeds (a new reservoir and
 * read-out per seed). Thresholds are chosen on the calibration seeds (odd) only; the figures are
 * reported on the held-out seeds (even): true positives (the check fires on the positive case), false
 * positives (it fires on the negative), and the separation of the statistic (ROC AUC). Writes
 * recurrent-calibration.json next to it and the table between the markers in docs/findings/README.md.
 * For the map checks, the table also gives LRP216's accuracy figures on the held-out seeds (every
 * recurrent model is re-run with its time axis reversed): accuracy in the feeding order, reversed, and the
 * share of decisions the reversal keeps.
 * Run: npx tsx samples/benchmark/recurrent-benchmark.ts [--samples N]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../server/src/core/backend.js';
import { BENCH_DIR } from './cases.js';
import { RECURRENT_PAIRS, measureRecurrent, type RecurrentCase, type RecurrentMeasured } from './recurrent-cases.js';
import { auc, chooseThreshold } from './separation.js';
import { writeFindingsSection } from './readme-section.js';

const CALIBRATION_SEEDS = [1, 3, 5, 7];
const HELD_OUT_SEEDS = [2, 4, 6, 8];
const START = '<!-- recurrent-benchmark:start -->';
const END = '<!-- recurrent-benchmark:end -->';

const key = (c: RecurrentCase): string => `${c.variant}|${c.composite}|${JSON.stringify(c.ruleMap ?? [])}`;
const fmt = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x));
const range = (v: number[]): string => (v.length ? `${fmt(Math.min(...v))} to ${fmt(Math.max(...v))}` : '-');

/** LRP216's figures per held-out seed: accuracy in order and reversed, and the share of unchanged decisions. */
interface OrderFigures { inOrder: number[]; reversed: number[]; agreement: number[] }
const orderFigures = (ms: RecurrentMeasured[]): OrderFigures => ({
  inOrder: ms.map((m) => m.stats.orderAccuracy),
  reversed: ms.map((m) => m.stats.reversedAccuracy),
  agreement: ms.map((m) => m.stats.orderAgreement),
});

async function main(): Promise<void> {
  await useBackend('wasm');
  const argN = process.argv.indexOf('--samples');
  const n = argN > 0 ? Number(process.argv[argN + 1]) : 16;
  const cache = new Map<string, RecurrentMeasured>();
  const run = async (c: RecurrentCase, seed: number, maps: boolean): Promise<RecurrentMeasured> => {
    const k = `${key(c)}|${seed}|${maps}`;
    if (!cache.has(k)) cache.set(k, await measureRecurrent(c, seed, n, maps));
    return cache.get(k)!;
  };
  const rows: Record<string, unknown>[] = [];
  const lines: string[] = [];
  for (const pair of RECURRENT_PAIRS) {
    const side = async (c: RecurrentCase, seeds: number[]) => {
      const ms = [];
      for (const s of seeds) ms.push(await run(c, s, !pair.static));
      return ms;
    };
    const cal = { pos: await side(pair.positive, CALIBRATION_SEEDS), neg: await side(pair.negative, CALIBRATION_SEEDS) };
    const held = { pos: await side(pair.positive, HELD_OUT_SEEDS), neg: await side(pair.negative, HELD_OUT_SEEDS) };
    const stat = (ms: RecurrentMeasured[]) => ms.map((m) => m.stats[pair.statistic]);
    const fired = (ms: RecurrentMeasured[]) => ms.filter((m) => m.findings.some((f) => f.code === pair.code)).length;
    const chosen = chooseThreshold(stat(cal.pos), stat(cal.neg));
    const row = {
      code: pair.code,
      what: pair.what,
      statistic: pair.statistic,
      positive: pair.positive,
      negative: pair.negative,
      calibration: { seeds: CALIBRATION_SEEDS, positive: stat(cal.pos), negative: stat(cal.neg), ...chosen },
      heldOut: {
        seeds: HELD_OUT_SEEDS,
        positive: stat(held.pos),
        negative: stat(held.neg),
        truePositives: fired(held.pos),
        falsePositives: fired(held.neg),
        byChosenThreshold: { truePositives: stat(held.pos).filter((v) => v >= chosen.threshold).length, falsePositives: stat(held.neg).filter((v) => v >= chosen.threshold).length },
        auc: auc(stat(held.pos), stat(held.neg)),
      },
      accuracy: { positive: held.pos.map((m) => m.accuracy), negative: held.neg.map((m) => m.accuracy) },
      order: pair.static ? undefined : { positive: orderFigures(held.pos), negative: orderFigures(held.neg) },
      codes: { positive: held.pos.map((m) => [...new Set(m.findings.map((f) => f.code))]), negative: held.neg.map((m) => [...new Set(m.findings.map((f) => f.code))]) },
      controls: { positive: held.pos.map((m) => m.stats), negative: held.neg.map((m) => m.stats) },
    };
    rows.push(row);
    const h = row.heldOut;
    const o = row.order;
    const both = (k: keyof OrderFigures) => (o ? `${range(o.positive[k])} / ${range(o.negative[k])}` : '-');
    lines.push(`| ${pair.code} | ${pair.what} | ${pair.statistic} | ${range(row.calibration.positive)} / ${range(row.calibration.negative)} | ${fmt(chosen.threshold)}${chosen.separates ? '' : ' (no gap)'} | ${range(h.positive)} / ${range(h.negative)} | ${h.truePositives}/${HELD_OUT_SEEDS.length} | ${h.falsePositives}/${HELD_OUT_SEEDS.length} | ${fmt(h.auc)} | ${both('inOrder')} | ${both('reversed')} | ${both('agreement')} |`);
    process.stdout.write(`${lines[lines.length - 1]}\n`);
  }
  writeFileSync(join(BENCH_DIR, 'recurrent-calibration.json'), JSON.stringify({ samples: n, pairs: rows }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  const table = [
    START,
    `Recurrent checks (\`npx tsx samples/benchmark/recurrent-benchmark.ts\`, ${n} held-out sequences per case; models: \`samples/benchmark/recurrent-models.ts\`, pairs: \`recurrent-cases.ts\`). Thresholds chosen on calibration seeds ${CALIBRATION_SEEDS.join(', ')}; figures on held-out seeds ${HELD_OUT_SEEDS.join(', ')}. TP / FP: held-out seeds on which the check (with the threshold in its code) fired on the positive / negative case. LRP216's figures for every map pair's models (held-out seeds, positive / negative): accuracy on the held-out labels in the feeding order and with the time axis reversed, and the share of decisions the reversal keeps (static pairs: -).`,
    '',
    '| code | pair (positive / negative) | statistic | calibration pos / neg | chosen threshold | held-out pos / neg | TP | FP | AUC | accuracy in order | accuracy reversed | decisions kept |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
    END,
  ].join('\n');
  writeFindingsSection(START, END, table);
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
