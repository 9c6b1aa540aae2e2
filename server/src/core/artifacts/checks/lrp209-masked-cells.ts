/** LRP209: relevance on masked or missing cells (land in an ocean field, fill values, NaN). */
import type { CheckMeta, MapCheck } from '../check.js';
import { makeFinding, pct } from '../check.js';
import { shareOn } from '../map-stats.js';
import { per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP209',
  title: 'Relevance on masked cells',
  severity: 'warning',
  thresholds: { share: 0.05 },
  remedy: 'Masked cells carry no physical signal: fill them with the value the model saw as "no data" in training (usually 0 anomaly), or mask them in the input layer; relevance there explains the fill value, not the field.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    if (!ctx.mask) return [];
    const p = per(ctx);
    let m = 0;
    for (const v of ctx.mask) m += v ? 1 : 0;
    if (m === 0) return [];
    const share = shareOn(ctx.relevance, ctx.n, ctx.mask, p);
    if (!(share > meta.thresholds.share)) return [];
    return [
      makeFinding(meta, ctx.graph, {
        message: `${pct(share)} of |R| lies on masked or missing cells (${pct(m / ctx.mask.length)} of the cells; threshold ${pct(meta.thresholds.share)} of |R|)`,
        data: { share, maskedCells: m / ctx.mask.length },
      }),
    ];
  },
};
