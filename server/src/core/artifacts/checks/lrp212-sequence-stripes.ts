/** LRP212: stripes along the time axis of a sequence map that survive randomizing the read-out. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding, pct } from '../check.js';
import { median, signTestP } from '../map-stats.js';
import type { MapContext } from '../map-context.js';
import { isSequenceMap, rounded, stepProfile, steps, timeAxisName, timeVarianceShare } from './sequence-common.js';

export const meta: CheckMeta = {
  code: 'LRP212',
  title: 'Stripes along the time axis',
  severity: 'warning',
  // timeShare: chosen on the recurrent benchmark's calibration seeds (docs/findings/LRP212.md);
  // p: the sign test that tells stripes the read-out learned from stripes the recurrence makes.
  thresholds: { timeShare: 0.34, p: 0.01 },
  remedy: 'The recurrence, not the learned read-out, decides how much each step (line of the field) gets: read the map per step with care, compare steps only within the memory horizon (LRP213), or feed the field in the other direction and compare.',
};

/** Per-sample share of |R| variance explained by the time axis: the maps and a control on the same samples. */
export function timeShares(ctx: MapContext, rel: Float32Array): number[] {
  const { T, F } = steps(ctx);
  return Array.from({ length: ctx.n }, (_, s) => timeVarianceShare(rel, s * T * F, T, F));
}

export const check: MapCheck = {
  meta,
  check(ctx) {
    if (!isSequenceMap(ctx)) return [];
    const own = timeShares(ctx, ctx.relevance);
    const share = median(own);
    if (!(share >= meta.thresholds.timeShare)) return [];
    const { T, F } = steps(ctx);
    const inputShare = median(timeShares(ctx, ctx.x));
    // The panel's overlay marks the feeding axis (axis 0 of the (time, features) map) and draws the step profile.
    const overlay = { timeAxis: 0, ...(ctx.sequence ? { timeDim: ctx.sequence.time } : {}), profile: rounded(stepProfile(ctx.relevance, ctx.n, T, F)) };
    // The control: the read-out re-drawn (first cascading level), the recurrence kept as it is.
    const level = ctx.randomized?.[0];
    const base = `${timeAxisName(ctx)} explains ${pct(share)} of the variance of |R| over the ${T} x ${F} (time x features) cells (median over ${ctx.n} samples; threshold ${pct(meta.thresholds.timeShare)}; the input's own: ${pct(inputShare)})`;
    if (!level) {
      return [makeFinding(meta, ctx.graph, { severity: 'information', message: `${base}; no randomized control was computed, so stripes the model learned cannot be told from stripes the recurrence makes`, data: { timeShare: share, inputTimeShare: inputShare, ...overlay } })];
    }
    const ctl = timeShares(ctx, level.relevance);
    const controlShare = median(ctl);
    let above = 0, m = 0;
    own.forEach((v, s) => {
      if (!Number.isFinite(v) || !Number.isFinite(ctl[s]) || v === ctl[s]) return;
      m++;
      if (v > ctl[s]) above++;
    });
    const p = signTestP(above, m);
    // Stripes well above the control's are what the read-out learned (a fact about the data); the others
    // the recurrence makes whatever the read-out.
    if (p < meta.thresholds.p) return [];
    return [
      makeFinding(meta, ctx.graph, {
        message: `${base}; with the read-out re-drawn (${level.layers.join(', ')}) it is still ${pct(controlShare)}: the trained maps exceed it in ${above} of ${m} samples (sign test p = ${fmt(p)}, threshold p < ${meta.thresholds.p} for learned stripes), so the stripes come from the recurrence`,
        data: { timeShare: share, controlTimeShare: controlShare, inputTimeShare: inputShare, p, samplesAbove: above, samples: m, ...overlay },
      }),
    ];
  },
};
