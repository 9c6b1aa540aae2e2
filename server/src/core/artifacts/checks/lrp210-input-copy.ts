/** LRP210: |R| merely mirrors |x|. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import { pearson, perSampleMean } from '../map-stats.js';
import { per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP210',
  title: 'Map copies the input',
  severity: 'warning',
  thresholds: { correlation: 0.9 },
  remedy: 'A map that mirrors |x| says "large values matter", little about where the model looks: compare with a gamma/z+ composite, or normalize the input so magnitude alone carries no signal.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    const p = per(ctx);
    const r = perSampleMean(ctx.n, p, (_s, off) => pearson(ctx.relevance, ctx.x, off, p, true));
    if (!(r > meta.thresholds.correlation)) return [];
    return [
      makeFinding(meta, ctx.graph, {
        message: `|R| correlates ${fmt(r)} with |x| on average (Pearson; threshold ${meta.thresholds.correlation}): the map mostly copies the input's magnitude`,
        data: { correlation: r },
      }),
    ];
  },
};
