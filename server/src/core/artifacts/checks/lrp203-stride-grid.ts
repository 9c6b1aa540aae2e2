/** LRP203: relevance folded into stride-phase classes: a grid pattern from strided layers. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import { phaseRatio } from '../map-stats.js';
import type { Finding } from '../finding.js';
import { cellShares, firstLayerBand, isGridInput, mapGrid, stridePeriod } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP203',
  title: 'Grid pattern at the stride period',
  // Information only: on the benchmark the statistic separated stride 2 from stride 1 (2.42-2.52 vs 1.03)
  // but not k=3 from the k=4 remedy (2.42 vs 2.52), so it cannot say the kernel is at fault.
  severity: 'information',
  // Independent figures (issue 4): stride-2 3x3 gives 3.2-4.5, the 4x4 remedy 1.25-1.43, stride 1 about 1.0.
  thresholds: { phaseRatio: 2 },
  remedy: 'Make kernel sizes multiples of the stride (or use stride 1 plus pooling); meanwhile smooth the map over one stride period before reading it.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    if (!isGridInput(ctx)) return [];
    const { period, strided } = stridePeriod(ctx.graph);
    const ratio = phaseRatio(cellShares(ctx), mapGrid(ctx), period, firstLayerBand(ctx.graph));
    if (!(ratio > meta.thresholds.phaseRatio)) return [];
    const out: Finding[] = [
      makeFinding(meta, ctx.graph, {
        message: `mean |R| differs ${fmt(ratio)}-fold between the ${period}x${period} stride-phase classes of the input cells (threshold ${meta.thresholds.phaseRatio}; 1 means no grid)${strided ? '' : ', although no layer is strided'}`,
        data: { phaseRatio: ratio, period, strided },
      }),
    ];
    return out;
  },
};
