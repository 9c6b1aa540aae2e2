/** LRP209: relevance on masked or missing cells (land in an ocean field, fill values, NaN). */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding, pct } from '../check.js';
import { shareOn } from '../map-stats.js';
import { per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP209',
  title: 'Relevance on masked cells',
  severity: 'warning',
  // Relative to the masked area so the threshold does not depend on how much is masked: masked cells
  // holding a fifth of an average cell's relevance (or more) carry relevance they cannot have earned.
  thresholds: { relativeToArea: 0.2 },
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
    const area = m / ctx.mask.length;
    const relative = share / area;
    if (!(relative > meta.thresholds.relativeToArea)) return [];
    return [
      makeFinding(meta, ctx.graph, {
        message: `${pct(share)} of |R| lies on masked or missing cells, which are ${pct(area)} of the cells: ${fmt(relative)} x their area share (threshold ${meta.thresholds.relativeToArea})`,
        data: { share, maskedCells: area, relative },
      }),
    ];
  },
};
