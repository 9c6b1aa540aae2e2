/**
 * LRP210: |R| merely mirrors |x|, judged against the randomized model on the same samples (what copying
 * the rule alone gives: epsilon and z+ multiply by the input whatever the weights) and shown next to
 * gradient x input.
 */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import type { MapContext } from '../map-context.js';
import { pairedDifference, pearson, perSampleMean } from '../map-stats.js';
import { controlData, per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP210',
  title: 'Map copies the input',
  severity: 'warning',
  // Fires when |R| correlates with |x| above `correlation` and the trained map does not copy the input
  // significantly less than the randomized model's (sign test over samples): a map that copies no less
  // than a model that learned nothing says little beyond "large values matter". 0.866: chosen on the
  // calibration seeds 1, 3, 5 (linear MLP 0.905-0.921, ReLU CNN 0.564-0.826); 0.9 missed half the
  // held-out linear MLPs (0.894-0.907).
  thresholds: { correlation: 0.866, signTestP: 0.01 },
  remedy: 'A map that mirrors |x| says "large values matter", little about where the model looks: compare with a gamma/z+ composite, or normalize the input so magnitude alone carries no signal.',
};

/** Per sample corr(|R|, |x|) of the model, the randomized model and gradient x input. */
export function inputCopy(ctx: MapContext): { model: number[]; randomized: number[]; gradientInput: number[] } {
  const p = per(ctx);
  const f = (rel: Float32Array | undefined) => (rel ? Array.from({ length: ctx.n }, (_, s) => pearson(rel, ctx.x, s * p, p, true)) : []);
  return { model: f(ctx.relevance), randomized: f(ctx.randomized?.[ctx.randomized.length - 1]?.relevance), gradientInput: f(ctx.controls?.gradientInput) };
}

const mean = (a: number[]): number => perSampleMean(a.length, 1, (s) => a[s]);

export const check: MapCheck = {
  meta,
  check(ctx) {
    const T = meta.thresholds;
    const c = inputCopy(ctx);
    const r = mean(c.model);
    if (!(r > T.correlation)) return [];
    const rnd = mean(c.randomized), gxi = mean(c.gradientInput);
    const test = c.randomized.length ? pairedDifference(c.model, c.randomized) : undefined;
    if (test && test.median < 0 && test.p < T.signTestP) return [];
    return [
      makeFinding(meta, ctx.graph, {
        message:
          `|R| correlates ${fmt(r)} with |x| on average (Pearson; threshold ${T.correlation}): the map mostly copies the input's magnitude` +
          (test ? `; the randomized model's maps copy it ${fmt(rnd)} on the same samples (model minus randomized ${fmt(test.median)}, sign test p ${test.p.toExponential(1)})` : '') +
          (Number.isFinite(gxi) ? `; gradient x input gives ${fmt(gxi)}` : ''),
        data: { correlation: r, randomizedCorrelation: rnd, gradientInputCorrelation: gxi, ...controlData(r, rnd, 'randomized model', test?.median ?? NaN, test?.p) },
      }),
    ];
  },
};
