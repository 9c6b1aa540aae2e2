/** LRP216: reversing the time axis changes the maps (and maybe the decisions): the map follows the feeding order. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding, pct } from '../check.js';
import { perSampleMean } from '../map-stats.js';
import { mapSimilarity } from './lrp207-randomization.js';
import { isSequenceMap, steps, timeAxisName } from './sequence-common.js';

export const meta: CheckMeta = {
  code: 'LRP216',
  title: 'Map depends on the feeding order',
  severity: 'warning',
  // agreement: decisions that survive the reversal; similarity: chosen on the recurrent benchmark's
  // calibration seeds (docs/findings/LRP216.md).
  thresholds: { agreement: 0.9, similarity: 0.65 },
  remedy: 'Where the order of the steps is arbitrary (a field fed column by column from an arbitrary first column), the map shows where a line sat in the sequence as much as what it held: compare the maps of both feeding orders, average them, or use a bidirectional layer.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    const rev = ctx.reversedTime;
    if (!rev || !isSequenceMap(ctx)) return [];
    const { T, F } = steps(ctx);
    const p = T * F;
    const similarity = perSampleMean(ctx.n, p, (_s, off) => mapSimilarity(ctx.relevance, off, rev.relevance, off, p));
    const same = rev.predicted.filter((c, i) => c === rev.predictedReversed[i]).length;
    const agreement = rev.predicted.length ? same / rev.predicted.length : NaN;
    if (!(similarity < meta.thresholds.similarity)) return [];
    const data = { similarity, agreement, samples: ctx.n };
    const figures = `the maps of the inputs reversed along ${timeAxisName(ctx)}, put back in order, correlate ${fmt(similarity)} with the originals (|R|, Pearson, mean over ${ctx.n} samples; threshold ${meta.thresholds.similarity})`;
    if (agreement >= meta.thresholds.agreement) {
      return [makeFinding(meta, ctx.graph, { message: `${figures} while ${pct(agreement)} of the decisions stay the same (threshold ${pct(meta.thresholds.agreement)}): the decision does not depend on the order of the steps, the map does`, data })];
    }
    return [
      makeFinding(meta, ctx.graph, {
        severity: 'information',
        message: `${figures}, and only ${pct(agreement)} of the decisions stay the same (threshold ${pct(meta.thresholds.agreement)}): the model itself reads the steps in order, which is a fact for a time series and arbitrary for a field fed line by line`,
        data,
      }),
    ];
  },
};
