/**
 * The relevance-map checks' seeded benchmark (issue 17): every pair of cases.ts on the seeded copies of
 * its models (make-benchmark.ts --seeds), under several composites where the composite is not itself the
 * artifact. Thresholds are chosen on the calibration seeds only; the figures are reported on the held-out
 * seeds: true positives (the check, with the threshold in its code, fires on the positive case), false
 * positives (it fires on the negative), and the separation of the statistic (ROC AUC), over seeds and
 * composites. Writes map-benchmark.json next to it and the table between the markers in
 * docs/findings/README.md.
 * Run: npx tsx samples/benchmark/seeded-benchmark.ts [--samples N] [--seeds 1-6] [LRP203 ...]
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../server/src/core/backend.js';
import { BENCH_DIR, PAIRS, modelPath, type Case, type Pair } from './cases.js';
import { measure, type Measured } from './measure.js';
import { auc, chooseThreshold } from './separation.js';
import { MAP_CHECKS } from '../../server/src/core/artifacts/catalogue.js';
import { writeFindingsSection } from './readme-section.js';

const START = '<!-- map-benchmark:start -->';
const END = '<!-- map-benchmark:end -->';

/** Composites each pair runs under, unless the composite or rule map is what the pair varies. */
export const SWEEP = ['epsilon', 'epsilon-plus', 'epsilon-gamma-box', 'epsilon-plus-flat'];

/** The statistic each check judges ("larger means artifact"), as measure.ts names it. */
export const STATISTIC: Record<string, string> = {
  LRP201: 'conservationGap', LRP202: 'twinEdgeFactor', LRP203: 'phaseAlignment', LRP204: 'roughnessFactor', LRP205: 'negativeShare', LRP206: 'classSimilarity',
  LRP207: 'randomizedSimilarity', LRP208: 'blankSimilarity', LRP209: 'maskedShare', LRP210: 'inputCorrelation', LRP211: 'nonFiniteShare',
};

/**
 * A second figure shown for a check whose verdict reads another statistic than the one its pair
 * separates on: LRP201 warns only on the loss its rules do not explain (expected-loss.ts).
 */
export const SECONDARY: Record<string, string> = { LRP201: 'unexplainedLoss' };

/**
 * Pairs whose label holds under some composites only: the linear MLP's map copies |x| where the first
 * layer multiplies by the input (epsilon rules), not under a z-box or flat first layer.
 */
const LABEL_COMPOSITES: Record<string, string[]> = { LRP210: ['epsilon', 'epsilon-plus'] };

/** The composites a pair is measured under: its own when the pair varies the rules, else the sweep. */
export function compositesOf(pair: Pair): string[] {
  if (LABEL_COMPOSITES[pair.code]) return LABEL_COMPOSITES[pair.code];
  const same = pair.positive.composite === pair.negative.composite && JSON.stringify(pair.positive.ruleMap ?? []) === JSON.stringify(pair.negative.ruleMap ?? []);
  return same && !pair.positive.ruleMap ? SWEEP : [pair.positive.composite];
}

function parseSeeds(arg: string): number[] {
  const m = /^(\d+)-(\d+)$/.exec(arg);
  if (m) return Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i);
  return arg.split(',').map(Number).filter(Number.isInteger);
}

const fmt = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x));
const range = (v: number[]): string => {
  const f = v.filter(Number.isFinite);
  return f.length ? `${fmt(Math.min(...f))} to ${fmt(Math.max(...f))}` : '-';
};

async function main(): Promise<void> {
  await useBackend('wasm');
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const n = Number(opt('--samples') ?? 16);
  const seeds = parseSeeds(opt('--seeds') ?? '1-6');
  const only = args.filter((a, i) => /^LRP\d+$/.test(a) && !['--samples', '--seeds'].includes(args[i - 1]));
  // Odd seeds calibrate, even seeds are held out.
  const calSeeds = seeds.filter((s) => s % 2 === 1), heldSeeds = seeds.filter((s) => s % 2 === 0);
  const cache = new Map<string, Measured>();
  const run = async (c: Case, seed: number): Promise<Measured | undefined> => {
    if (!existsSync(modelPath(c.variant, seed))) return undefined;
    const k = `${c.variant}|${c.composite}|${JSON.stringify(c.ruleMap ?? [])}|${c.masked ?? ''}|${seed}`;
    if (!cache.has(k)) cache.set(k, await measure(c, n, seed));
    return cache.get(k);
  };
  const rows: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const notes: string[] = [];
  for (const pair of PAIRS) {
    if (only.length && !only.includes(pair.code)) continue;
    const stat = STATISTIC[pair.code];
    const composites = compositesOf(pair);
    const defaultSeverity = MAP_CHECKS.find((c) => c.meta.code === pair.code)?.meta.severity;
    const side = async (c: Case, ss: number[]) => {
      const out: { seed: number; composite: string; value: number; fired: boolean; severity: string; secondary?: number }[] = [];
      for (const seed of ss)
        for (const composite of composites) {
          const m = await run({ ...c, composite }, seed);
          if (!m) continue;
          const f = m.findings.find((x) => x.code === pair.code);
          // A warning check "fires" with a warning: its information-only fallback (no control to judge against) is not a verdict.
          const fired = !!f && (f.severity !== 'information' || defaultSeverity === 'information');
          out.push({ seed, composite, value: m.stats[stat], fired, severity: f?.severity ?? '', ...(SECONDARY[pair.code] ? { secondary: m.stats[SECONDARY[pair.code]] } : {}) });
        }
      return out;
    };
    const cal = { pos: await side(pair.positive, calSeeds), neg: await side(pair.negative, calSeeds) };
    const held = { pos: await side(pair.positive, heldSeeds), neg: await side(pair.negative, heldSeeds) };
    const vals = (a: { value: number }[]) => a.map((x) => x.value);
    const chosen = chooseThreshold(vals(cal.pos), vals(cal.neg));
    const tp = held.pos.filter((x) => x.fired).length, fp = held.neg.filter((x) => x.fired).length;
    const row = {
      code: pair.code, what: pair.what, statistic: stat, composites, positive: pair.positive.variant, negative: pair.negative.variant,
      calibration: { seeds: calSeeds, positive: cal.pos, negative: cal.neg, ...chosen },
      heldOut: {
        seeds: heldSeeds, positive: held.pos, negative: held.neg, truePositives: tp, falsePositives: fp, cases: held.pos.length,
        byChosenThreshold: { truePositives: vals(held.pos).filter((v) => v >= chosen.threshold).length, falsePositives: vals(held.neg).filter((v) => v >= chosen.threshold).length },
        auc: auc(vals(held.pos), vals(held.neg)),
      },
    };
    rows.push(row);
    const h = row.heldOut;
    const sec = SECONDARY[pair.code];
    if (sec) {
      const v = (a: { secondary?: number }[]) => a.map((x) => x.secondary ?? NaN);
      const warned = (a: { severity: string }[]) => a.filter((x) => x.severity === 'warning' || x.severity === 'error').length;
      notes.push(`${pair.code}: ${sec} (held out) ${range(v(held.pos))} / ${range(v(held.neg))}; warnings ${warned(held.pos)}/${held.pos.length} / ${warned(held.neg)}/${held.neg.length}.`);
    }
    lines.push(
      `| ${pair.code} | ${pair.positive.variant} / ${pair.negative.variant}: ${pair.what} | ${stat} | ${composites.join(', ')} | ${range(vals(cal.pos))} / ${range(vals(cal.neg))} | ${fmt(chosen.threshold)}${chosen.separates ? '' : ' (no gap)'} | ${range(vals(held.pos))} / ${range(vals(held.neg))} | ${tp}/${held.pos.length} | ${fp}/${held.neg.length} | ${h.byChosenThreshold.truePositives}/${held.pos.length}, ${h.byChosenThreshold.falsePositives}/${held.neg.length} | ${fmt(h.auc)} |`,
    );
    process.stdout.write(`${lines[lines.length - 1]}\n`);
  }
  const jsonPath = join(BENCH_DIR, only.length ? `map-benchmark-${only.join('-')}.json` : 'map-benchmark.json');
  writeFileSync(jsonPath, JSON.stringify({ samples: n, pairs: rows }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  if (only.length) return;
  const table = [
    START,
    `Relevance-map checks (\`npx tsx samples/benchmark/seeded-benchmark.ts\`, ${n} held-out fields per case; models: \`make-benchmark.ts --seeds\`, pairs: \`cases.ts\`). Thresholds chosen on calibration seeds ${calSeeds.join(', ')}; figures on held-out seeds ${heldSeeds.join(', ')}, each under every composite listed (a pair that varies the rules runs under its own). TP / FP: held-out cases on which the check (with the thresholds in its code) fired on the positive / negative case (a warning check with a warning: its information-only fallback is not counted); "chosen" counts the statistic against the threshold chosen on the calibration seeds; AUC: separation of the statistic on the held-out cases.`,
    '',
    '| code | pair (positive / negative) | statistic | composites | calibration pos / neg | chosen threshold | held-out pos / neg | TP | FP | chosen TP, FP | AUC |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
    ...(notes.length ? ['', ...notes] : []),
    END,
  ].join('\n');
  writeFindingsSection(START, END, table);
}

if (process.argv[1]?.endsWith('seeded-benchmark.ts')) {
  main().catch((e) => {
    process.stderr.write(String(e?.stack ?? e) + '\n');
    process.exit(1);
  });
}
