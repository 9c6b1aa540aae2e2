/** LRP202: relevance in the border band against the interior, judged against a control with the same data. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import type { MapContext } from '../map-context.js';
import { borderBand, type BandRatios } from '../map-stats.js';
import type { Finding } from '../finding.js';
import { cellShares, firstLayerBand, isGridInput, mapGrid } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP202',
  title: 'Border band of relevance (rim or deficit)',
  severity: 'warning',
  // Factor between the model's band/interior ratio and the control's, either way (rim or deficit).
  thresholds: { factor: 1.5 },
  remedy: "Use 'valid' padding or circular padding in longitude (wrap the input in the data pipeline); otherwise discount the flagged band when reading the map.",
};

const SIDES = ['top', 'bottom', 'left', 'right'] as const;

/** The control ratios: a valid/wrapped twin on the same data, else the randomized model, else the blank-input prior. */
export function controlRatios(ctx: MapContext, band: number): { name: string; twin: boolean; r: BandRatios } | undefined {
  const g = mapGrid(ctx);
  if (ctx.twin) return { name: `the ${ctx.twin.name}`, twin: true, r: borderBand(cellShares(ctx, ctx.twin.relevance), g, band) };
  const full = ctx.randomized?.[ctx.randomized.length - 1];
  if (full) return { name: 'the randomized model', twin: false, r: borderBand(cellShares(ctx, full.relevance), g, band) };
  if (ctx.blank) return { name: 'the blank-input prior', twin: false, r: borderBand(cellShares(ctx, ctx.blank, 1), g, band) };
  return undefined;
}

export const check: MapCheck = {
  meta,
  check(ctx) {
    if (!isGridInput(ctx)) return [];
    const g = mapGrid(ctx);
    const band = firstLayerBand(ctx.graph);
    if (2 * band >= Math.max(g.h, g.w)) return [];
    const r = borderBand(cellShares(ctx), g, band);
    const ctl = controlRatios(ctx, band);
    const T = meta.thresholds.factor;
    const sides = SIDES.filter((s) => g.h > 1 || s === 'left' || s === 'right');
    const out: Finding[] = [];
    const flagged: string[] = [];
    let worst = 1;
    for (const s of sides) {
      const ref = ctl ? ctl.r[s] : 1;
      const f = r[s] / ref;
      if (!Number.isFinite(f)) continue;
      const dev = f >= 1 ? f : 1 / f;
      if (dev > T) flagged.push(`${s} ${f > 1 ? 'rim' : 'deficit'} x${fmt(f)}`);
      if (dev > worst) worst = dev;
    }
    if (flagged.length === 0) return out;
    out.push(
      makeFinding(meta, ctx.graph, {
        // Only a twin holds data and weights fixed; against the randomized model or the blank prior a trained
        // model's relevance also gathers where its signal is, so a quiet border may be physics: inform only.
        severity: ctl?.twin ? meta.severity : 'information',
        message:
          `border band of ${band} cells holds ${fmt(r.all)} x the interior's mean |R| (per side: ${sides.map((s) => `${s} ${fmt(r[s])}`).join(', ')})` +
          (ctl ? `; ${ctl.name} gives ${fmt(ctl.r.all)} (${sides.map((s) => `${s} ${fmt(ctl.r[s])}`).join(', ')})` : '; no control available, judged against 1') +
          `; ${flagged.join(', ')} (threshold: factor ${T} either way)`,
        data: { band, ratio: r.all, top: r.top, bottom: r.bottom, left: r.left, right: r.right, control: ctl?.r.all ?? NaN, controlName: ctl?.name ?? 'none', worstFactor: worst },
      }),
    );
    return out;
  },
};
