/**
 * LRP203: relevance folded into stride-phase classes, judged against the geometry control: the map the
 * architecture alone makes (the flat rule on every linear layer, so relevance spreads by window coverage
 * only). The observed phase ratio mixes the geometric pattern (uneven coverage when a kernel is not a
 * multiple of its stride) with a weight-driven one; only the first is the artifact the remedy removes.
 */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import { median, phaseAlignment, phaseRatio, signTestP } from '../map-stats.js';
import type { Finding } from '../finding.js';
import { cellShares, controlData, firstLayerBand, isGridInput, mapGrid, stridePeriod } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP203',
  title: 'Grid pattern at the stride period',
  // Against the geometry control (issue 17): the architecture must make a phase pattern (geometric ratio
  // above 1.25; a kernel divisible by its stride makes none: 1.00) and the samples' maps must follow it
  // (median over samples of |R| on the phases the geometry favours over the others above `alignment`,
  // sign test over the samples). Seeded benchmark figures: docs/findings/README.md.
  severity: 'warning',
  thresholds: { geometricRatio: 1.25, alignment: 1.12, signTestP: 0.01, phaseRatio: 2 },
  remedy: 'Make kernel sizes multiples of the stride (or use stride 1 plus pooling); meanwhile smooth the map over one stride period before reading it.',
};

/** The three ratios and the sample-level test (also read by the benchmark). */
export function strideGridStats(ctx: Parameters<MapCheck['check']>[0]): {
  period: number; strided: boolean; observed: number; geometric: number; weight: number; alignment: number; agree: number; p: number; samples: number;
} | undefined {
  if (!isGridInput(ctx)) return undefined;
  const { period, strided } = stridePeriod(ctx.graph);
  const g = mapGrid(ctx);
  const margin = firstLayerBand(ctx.graph);
  const so = cellShares(ctx);
  const observed = phaseRatio(so, g, period, margin);
  const geo = ctx.controls?.geometry;
  if (!geo) return { period, strided, observed, geometric: NaN, weight: NaN, alignment: NaN, agree: 0, p: 1, samples: 0 };
  const sg = cellShares(ctx, geo);
  // The weight-driven part: the observed map divided cell by cell by the geometric one, folded alike.
  const weight = phaseRatio(Float64Array.from(so, (v, i) => (sg[i] > 0 ? v / sg[i] : 0)), g, period, margin);
  const a = phaseAlignment(ctx.relevance, ctx.n, g, sg, period, margin).filter(Number.isFinite);
  const m = median(a);
  const k = a.filter((v) => v > 1).length;
  return { period, strided, observed, geometric: phaseRatio(sg, g, period, margin), weight, alignment: a.length ? m : 1, agree: a.length ? k / a.length : 0, p: signTestP(k, a.length), samples: a.length };
}

export const check: MapCheck = {
  meta,
  check(ctx) {
    const s = strideGridStats(ctx);
    if (!s) return [];
    const T = meta.thresholds;
    const out: Finding[] = [];
    if (!Number.isFinite(s.geometric)) {
      // No geometry control (maps from elsewhere): the bare ratio, information only.
      if (!(s.observed > T.phaseRatio)) return [];
      return [
        makeFinding(meta, ctx.graph, {
          severity: 'information',
          message: `mean |R| differs ${fmt(s.observed)}-fold between the ${s.period}x${s.period} stride-phase classes of the input cells (threshold ${T.phaseRatio}; 1 means no grid); no geometry control was computed, so geometry and weights cannot be told apart`,
          data: { phaseRatio: s.observed, period: s.period, strided: s.strided, ...controlData(s.observed, NaN, 'none', NaN) },
        }),
      ];
    }
    if (!(s.geometric > T.geometricRatio && s.alignment > T.alignment && s.p < T.signTestP)) return [];
    out.push(
      makeFinding(meta, ctx.graph, {
        message:
          `the architecture alone (flat rule on every linear layer) makes a ${fmt(s.geometric)}-fold contrast between the ${s.period}x${s.period} stride-phase classes, and the maps follow it: ` +
          `on the phases the geometry favours they hold ${fmt(s.alignment)} x the |R| of the others (median over ${s.samples} samples; ${Math.round(100 * s.agree)} % agree, sign test p ${s.p.toExponential(1)}; thresholds: geometry ${T.geometricRatio}, ${T.alignment}, p < ${T.signTestP}). ` +
          `Observed phase ratio ${fmt(s.observed)} = geometric ${fmt(s.geometric)} combined with a weight-driven ${fmt(s.weight)}`,
        data: {
          phaseRatio: s.observed, geometricRatio: s.geometric, weightRatio: s.weight, alignment: s.alignment, agree: s.agree, period: s.period, strided: s.strided,
          ...controlData(s.observed, s.geometric, 'geometry control (flat rule on every linear layer)', s.alignment, s.p),
        },
      }),
    );
    return out;
  },
};
