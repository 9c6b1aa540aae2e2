/** LRP204: sparse relevance: exact zeros and concentration (Gini). */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding, pct } from '../check.js';
import { gini, perSampleMean, zeroShare } from '../map-stats.js';
import { per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP204',
  title: 'Sparse relevance',
  severity: 'information',
  thresholds: { zeroShare: 0.25, gini: 0.9 },
  remedy: 'Average pooling (or routing max-pooling like average pooling) and averaging maps over samples spread relevance; exact zeros also come from zero-valued inputs under rules that multiply by the input.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    const p = per(ctx);
    const z = zeroShare(ctx.relevance.subarray(0, ctx.n * p));
    const gi = perSampleMean(ctx.n, p, (_s, off) => gini(ctx.relevance.subarray(off, off + p)));
    if (!(z > meta.thresholds.zeroShare || gi > meta.thresholds.gini)) return [];
    return [
      makeFinding(meta, ctx.graph, {
        message: `${pct(z)} of input relevance values are exactly zero (threshold ${pct(meta.thresholds.zeroShare)}), Gini coefficient of |R| ${fmt(gi)} (threshold ${meta.thresholds.gini})`,
        data: { zeroShare: z, gini: gi },
      }),
    ];
  },
};
