/**
 * The recurrent checks' labelled pairs (LRP114-LRP116 static, LRP212-LRP216 on maps): for each code the
 * variant that carries the artifact and the one that does not (recurrent-models.ts), and the statistic
 * the check judges. `measureRecurrent` builds a variant for one seed, explains held-out sequences and
 * runs every check; shared by the benchmark script (recurrent-benchmark.ts) and the test.
 */
import type { NdArray } from '../../server/src/core/array.js';
import type { RuleMapEntry } from '../../server/src/core/lrp/composites.js';
import { collectFromArray } from '../../server/src/core/artifacts/collect.js';
import { runMapChecks, runStaticChecks } from '../../server/src/core/artifacts/catalogue.js';
import type { Finding } from '../../server/src/core/artifacts/finding.js';
import { median } from '../../server/src/core/artifacts/map-stats.js';
import { timeShares } from '../../server/src/core/artifacts/checks/lrp212-sequence-stripes.js';
import { layerInOut } from '../../server/src/core/artifacts/checks/lrp214-recurrent-leak.js';
import { retentionOf } from '../../server/src/core/artifacts/checks/lrp115-memory-horizon.js';
import { mapSimilarity } from '../../server/src/core/artifacts/checks/lrp207-randomization.js';
import { orderAccuracy } from '../../server/src/core/artifacts/checks/lrp216-order-dependence.js';
import { horizonSteps, stepProfile, stepSums, recurrentNodes } from '../../server/src/core/artifacts/checks/sequence-common.js';
import { buildRecurrent, featuresOf, sequenceSignal, T, variantData } from './recurrent-models.js';

export interface RecurrentCase {
  variant: string;
  composite: string;
  ruleMap?: RuleMapEntry[];
}

export interface RecurrentPair {
  code: string;
  what: string;
  /** The statistic the check judges (a key of `RecurrentMeasured.stats`); larger means "artifact". */
  statistic: string;
  /** The check's threshold on that statistic (the meta's), for the table. */
  positive: RecurrentCase;
  negative: RecurrentCase;
  /** Static: the check reads the architecture only. */
  static?: boolean;
}

const CONSERVATIVE: RuleMapEntry[] = [{ kind: 'Recurrent', rule: 'lstm-conservative' }];
const ESN_RULE: RuleMapEntry[] = [{ kind: 'Recurrent', rule: 'esn' }];
const UNIFORM: RuleMapEntry[] = [{ kind: 'Recurrent', rule: 'lstm-uniform' }];
const esn = (variant: string): RecurrentCase => ({ variant, composite: 'epsilon', ruleMap: ESN_RULE });
const eps = (variant: string, ruleMap?: RuleMapEntry[]): RecurrentCase => ({ variant, composite: 'epsilon', ...(ruleMap ? { ruleMap } : {}) });

export const RECURRENT_PAIRS: RecurrentPair[] = [
  { code: 'LRP114', static: true, what: 'a field fed column by column (16 features per step) vs a univariate series', statistic: 'features', positive: eps('lstm-forget+3'), negative: eps('lstm-univariate') },
  { code: 'LRP115', static: true, what: 'LSTM forget bias -3 vs +3 (32 steps)', statistic: 'shortfall', positive: eps('lstm-forget-3'), negative: eps('lstm-forget+3') },
  { code: 'LRP115', static: true, what: 'SimpleRNN spectral radius 0.3 vs LSTM forget bias +3', statistic: 'shortfall', positive: eps('rnn-short'), negative: eps('lstm-forget+3') },
  { code: 'LRP115', static: true, what: 'echo state network (radius 0.5) with leak a = 1 vs a = 0.05', statistic: 'shortfall', positive: esn('esn-a1'), negative: esn('esn-a0.05') },
  { code: 'LRP116', static: true, what: 'LSTM under lstm-epsilon vs lstm-uniform (gates share products)', statistic: 'gated', positive: eps('lstm-forget+3'), negative: eps('lstm-forget+3', UNIFORM) },
  { code: 'LRP116', static: true, what: 'LSTM (gates) vs SimpleRNN (no gates), lstm-epsilon', statistic: 'gated', positive: eps('lstm-forget+3'), negative: eps('rnn-short') },
  { code: 'LRP212', what: 'SimpleRNN radius 0.3 vs LSTM forget bias +3', statistic: 'timeShare', positive: eps('rnn-short'), negative: eps('lstm-forget+3') },
  { code: 'LRP212', what: 'SimpleRNN radius 0.3 vs an LSTM that learned stripes (the label fills steps 12-19)', statistic: 'timeShare', positive: eps('rnn-short'), negative: eps('lstm-stripes') },
  { code: 'LRP213', what: 'LSTM forget bias -3 vs +3', statistic: 'fadedShare', positive: eps('lstm-forget-3'), negative: eps('lstm-forget+3') },
  { code: 'LRP213', what: 'SimpleRNN radius 0.3 vs LSTM forget bias +3', statistic: 'fadedShare', positive: eps('rnn-short'), negative: eps('lstm-forget+3') },
  { code: 'LRP213', what: 'echo state network (radius 0.5, esn rule) with leak a = 1 vs a = 0.05', statistic: 'fadedShare', positive: esn('esn-a1'), negative: esn('esn-a0.05') },
  { code: 'LRP214', what: 'LSTM with candidate bias 2: lstm-epsilon vs lstm-conservative', statistic: 'absLeak', positive: eps('lstm-bias'), negative: eps('lstm-bias', CONSERVATIVE) },
  { code: 'LRP215', what: 'first step cropped before the LSTM vs not', statistic: 'zeroFirstShare', positive: eps('lstm-cropped'), negative: eps('lstm-forget+3') },
  { code: 'LRP215', what: 'first step cropped vs faded away (LSTM forget bias -3)', statistic: 'zeroFirstShare', positive: eps('lstm-cropped'), negative: eps('lstm-forget-3') },
  { code: 'LRP216', what: 'LSTM forward vs bidirectional with shared weights (time-symmetric)', statistic: 'orderDissimilarity', positive: eps('lstm-forget+3'), negative: eps('lstm-bidir') },
];

export interface RecurrentMeasured {
  findings: Finding[];
  stats: Record<string, number>;
  accuracy: number;
}

/** Held-out sequences of a variant: the first n of the 64. */
export function recurrentTestData(variant: string, n: number): NdArray {
  const nf = featuresOf(variant);
  return { shape: [n, T, nf], data: variantData(variant).test.x.slice(0, n * T * nf), dtype: 'f4' } as NdArray;
}

export async function measureRecurrent(c: RecurrentCase, seed: number, n = 16, withMaps = true): Promise<RecurrentMeasured> {
  const { graph, accuracy } = buildRecurrent(c.variant, seed);
  const nf = featuresOf(c.variant);
  const rnn = recurrentNodes(graph)[0];
  const ret = retentionOf(rnn);
  const horizon = ret ? horizonSteps(ret.retention) : NaN;
  const stats: Record<string, number> = {
    features: nf,
    horizon,
    // How far the horizon falls short of the sequence (> 0: the check fires).
    shortfall: (T - 1 - horizon) / T,
  };
  const findings = runStaticChecks(graph, { composite: c.composite, ruleMap: c.ruleMap });
  // LRP116 is structural: its statistic is the number of gated layers it names.
  stats.gated = findings.filter((f) => f.code === 'LRP116').length;
  if (!withMaps) return { findings, stats, accuracy };
  const x = recurrentTestData(c.variant, n);
  // The held-out labels: LRP216 compares accuracy in order and with the time axis reversed.
  const labels = variantData(c.variant).test.y.subarray(0, n);
  const ctx = await collectFromArray(graph, x, c.composite, { explainer: c.ruleMap ? { ruleMap: c.ruleMap } : undefined, signal: nf === featuresOf('lstm-forget+3') ? sequenceSignal() : undefined, labels });
  findings.push(...runMapChecks(ctx));
  const p = T * nf;
  stats.timeShare = median(timeShares(ctx, ctx.relevance));
  stats.controlTimeShare = ctx.randomized?.length ? median(timeShares(ctx, ctx.randomized[0].relevance)) : NaN;
  const prof = stepProfile(ctx.relevance, ctx.n, T, nf);
  const input = stepProfile(ctx.x, ctx.n, T, nf);
  stats.fadedShare = prof.filter((v, t) => v < 0.01 / T && input[t] >= 0.01 / T).length / T;
  const io = layerInOut(ctx, rnn.name, rnn.inbound[0]);
  stats.absLeak = io ? median(io.output.map((o, s) => Math.abs((o - io.input[s]) / o))) : NaN;
  let zero = 0;
  for (let s = 0; s < ctx.n; s++) {
    const r = stepSums(ctx.relevance, s * p, T, nf);
    const total = r.reduce((u, v) => u + v, 0);
    if (r[0] === 0 && r[1] >= (0.01 * total) / T) zero++;
  }
  stats.zeroFirstShare = zero / ctx.n;
  const rev = ctx.reversedTime;
  if (rev) {
    let sim = 0;
    for (let s = 0; s < ctx.n; s++) sim += mapSimilarity(ctx.relevance, s * p, rev.relevance, s * p, p);
    stats.orderDissimilarity = 1 - sim / ctx.n;
    stats.orderAgreement = rev.predicted.filter((v, i) => v === rev.predictedReversed[i]).length / rev.predicted.length;
    const acc = orderAccuracy(rev);
    stats.orderAccuracy = acc?.accuracy ?? NaN;
    stats.reversedAccuracy = acc?.reversedAccuracy ?? NaN;
  }
  return { findings, stats, accuracy };
}
