/**
 * LRP206: the maps of the top class and the runner-up show the same pattern (|R| correlated), judged
 * against the class contrast the randomized model gives on the same samples and classes: if a model that
 * learned nothing gives equally similar class maps, the rule (a z+ chain) makes them class-blind; if not,
 * the network's class scores read the same evidence. The contrastive map (top minus runner-up) is what is
 * class-specific; its share of the two maps' |R| is reported.
 */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding, pct } from '../check.js';
import type { MapContext } from '../map-context.js';
import { cosine, median, pairedDifference, perSampleMean } from '../map-stats.js';
import { controlData, per } from './map-common.js';
import { mapSimilarity } from './lrp207-randomization.js';

export const meta: CheckMeta = {
  code: 'LRP206',
  title: 'Class-insensitive maps',
  // Information only: on the seeded benchmark the z+ chain (epsilon-plus on five convs) and epsilon do
  // not separate on two-class models (docs/findings/README.md): the statistic is reported, not trusted.
  severity: 'information',
  thresholds: { similarity: 0.9, signTestP: 0.01 },
  remedy: 'Use epsilon or gamma on the upper layers instead of a z+ chain; explain a contrast of the two classes (target A-B), which keeps only what is class-specific.',
};

export interface ClassContrast {
  /** Per sample: |R| correlation of the top-class and runner-up maps, for the model and the randomized control. */
  model: number[];
  control: number[];
  /** Signed cosine of the two maps (mean over samples). */
  cosine: number;
  /** Mean over samples of sum |top - runner-up| / (sum |top| + sum |runner-up|): 0 when the maps are equal, 1 when they cancel nowhere. */
  contrastShare: number;
  /** Share of the contrastive map's |R| in the known signal region (benchmark), NaN without one. */
  contrastSignalShare: number;
}

export function classContrast(ctx: MapContext): ClassContrast | undefined {
  if (!ctx.runnerUp) return undefined;
  const p = per(ctx), ru = ctx.runnerUp, c = ctx.controls;
  const model = Array.from({ length: ctx.n }, (_, s) => mapSimilarity(ctx.relevance, s * p, ru, s * p, p));
  const control = c?.randomizedTop && c.randomizedRunnerUp ? Array.from({ length: ctx.n }, (_, s) => mapSimilarity(c.randomizedTop!, s * p, c.randomizedRunnerUp!, s * p, p)) : [];
  let share = 0, k = 0, onSig = 0, totSig = 0;
  const cells = ctx.signal?.length ?? 0;
  for (let s = 0; s < ctx.n; s++) {
    let d = 0, t = 0;
    for (let i = 0; i < p; i++) {
      const a = ctx.relevance[s * p + i], b = ru[s * p + i];
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      const diff = Math.abs(a - b);
      d += diff;
      t += Math.abs(a) + Math.abs(b);
      if (cells) { totSig += diff; if (ctx.signal![Math.floor(i / (p / cells))]) onSig += diff; }
    }
    if (t > 0) { share += d / t; k++; }
  }
  return {
    model, control,
    cosine: perSampleMean(ctx.n, p, (_s, off) => cosine(ctx.relevance, ru, off, p)),
    contrastShare: k ? share / k : NaN,
    contrastSignalShare: totSig > 0 ? onSig / totSig : NaN,
  };
}

export const check: MapCheck = {
  meta,
  check(ctx) {
    const cc = classContrast(ctx);
    if (!cc) return [];
    const T = meta.thresholds;
    const sim = median(cc.model);
    if (!(sim > T.similarity)) return [];
    const ctl = cc.control.length ? median(cc.control) : NaN;
    // Are the model's class maps significantly more alike than the randomized model's? Then training, not the rule, made them alike.
    const r = cc.control.length ? pairedDifference(cc.model, cc.control) : undefined;
    const byRule = r ? !(r.median > 0 && r.p < T.signTestP) : false;
    const why = !r
      ? 'no randomized control was computed'
      : byRule
        ? `the randomized model gives ${fmt(ctl)} on the same samples and classes, so the rule, not the training, makes the maps class-blind`
        : `the randomized model gives only ${fmt(ctl)} (sign test p ${r.p.toExponential(1)}), so the trained network's class scores read the same evidence`;
    return [
      makeFinding(meta, ctx.graph, {
        message:
          `the maps for the top class and the runner-up correlate ${fmt(sim)} in |R| (median over samples; threshold ${T.similarity}; signed cosine ${fmt(cc.cosine)}): the map shows what the network looks at, not why it chose the class; ${why}. ` +
          `The contrastive map (top minus runner-up) keeps ${pct(cc.contrastShare)} of the two maps' |R|` + (Number.isFinite(cc.contrastSignalShare) ? `, ${pct(cc.contrastSignalShare)} of it in the signal region` : ''),
        data: {
          similarity: sim, cosine: cc.cosine, contrastShare: cc.contrastShare, ...(Number.isFinite(cc.contrastSignalShare) ? { contrastSignalShare: cc.contrastSignalShare } : {}), byRule,
          ...controlData(sim, ctl, 'randomized model, same classes', r?.median ?? NaN, r?.p),
        },
      }),
    ];
  },
};
