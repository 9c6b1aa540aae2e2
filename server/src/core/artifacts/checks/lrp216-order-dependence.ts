/** LRP216: reversing the time axis changes the maps (and maybe the decisions): the map follows the feeding order. */
import type { CheckMeta, MapCheck } from '../check.js';
import type { MapContext } from '../map-context.js';
import { fmt, makeFinding, pct } from '../check.js';
import { perSampleMean } from '../map-stats.js';
import { mapSimilarity } from './lrp207-randomization.js';
import { isSequenceMap, meanShareMap, steps, timeAxisName } from './sequence-common.js';

export const meta: CheckMeta = {
  code: 'LRP216',
  title: 'Map depends on the feeding order',
  severity: 'warning',
  // agreement: decisions that survive the reversal; similarity: chosen on the recurrent benchmark's
  // calibration seeds (docs/findings/LRP216.md).
  thresholds: { agreement: 0.9, similarity: 0.65 },
  remedy: 'Where the order of the steps is arbitrary (a field fed column by column from an arbitrary first column), the map shows where a line sat in the sequence as much as what it held: compare the maps of both feeding orders, average them, or use a bidirectional layer.',
};

/**
 * Accuracy in the feeding order and with the time axis reversed, over the samples whose label is known
 * (the same reversal for every sample); undefined without labels.
 */
export function orderAccuracy(rev: NonNullable<MapContext['reversedTime']>): { accuracy: number; reversedAccuracy: number; labelled: number } | undefined {
  const labels = rev.labels;
  if (!labels) return undefined;
  let m = 0, ok = 0, okRev = 0;
  labels.forEach((y, i) => {
    if (!(y >= 0) || i >= rev.predicted.length) return;
    m++;
    if (rev.predicted[i] === y) ok++;
    if (rev.predictedReversed[i] === y) okRev++;
  });
  return m ? { accuracy: ok / m, reversedAccuracy: okRev / m, labelled: m } : undefined;
}

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
    const acc = orderAccuracy(rev);
    const data: Record<string, number | number[]> = { similarity, agreement, samples: ctx.n, steps: T, features: F };
    if (acc) Object.assign(data, acc);
    // The panel's overlay: the mean |R| share per cell in both feeding orders (the reversed one put back in order).
    const own = meanShareMap(ctx.relevance, ctx.n, T, F);
    const reversed = meanShareMap(rev.relevance, ctx.n, T, F);
    if (own && reversed) Object.assign(data, { meanMap: own, reversedMeanMap: reversed });
    const figures = `the maps of the inputs reversed along ${timeAxisName(ctx)}, put back in order, correlate ${fmt(similarity)} with the originals (|R|, Pearson, mean over ${ctx.n} samples; threshold ${meta.thresholds.similarity})`;
    const accuracy = acc ? `; accuracy ${pct(acc.accuracy)} in order, ${pct(acc.reversedAccuracy)} reversed (${acc.labelled} labelled samples)` : '';
    if (agreement >= meta.thresholds.agreement) {
      return [makeFinding(meta, ctx.graph, { message: `${figures} while ${pct(agreement)} of the decisions stay the same (threshold ${pct(meta.thresholds.agreement)})${accuracy}: the decision does not depend on the order of the steps, the map does`, data })];
    }
    const verdict = !acc ? '' : acc.reversedAccuracy < acc.accuracy ? ' (reversed, it is right less often)' : ' (reversed, it is right as often or more: the order changes which samples it gets right, not how many)';
    return [
      makeFinding(meta, ctx.graph, {
        severity: 'information',
        message: `${figures}, and only ${pct(agreement)} of the decisions stay the same (threshold ${pct(meta.thresholds.agreement)})${accuracy}${verdict}; the model itself reads the steps in order, which is a fact for a time series and arbitrary for a field fed line by line`,
        data,
      }),
    ];
  },
};
