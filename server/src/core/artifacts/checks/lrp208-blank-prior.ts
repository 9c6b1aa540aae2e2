/** LRP208: an input-independent prior: the map of a blank input resembles the data maps. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import { perSampleMean } from '../map-stats.js';
import type { MapContext } from '../map-context.js';
import { controlData, per } from './map-common.js';
import { mapSimilarity } from './lrp207-randomization.js';

export const meta: CheckMeta = {
  code: 'LRP208',
  title: 'Input-independent prior',
  severity: 'warning',
  thresholds: { similarity: 0.5 },
  remedy: 'Subtract or show the blank-input map next to the data maps; rules that multiply by the input (epsilon, z+) give no relevance to a zero input, so a prior comes from biases, flat/w-square/zbox rules or padding.',
};

/** Mean similarity (|R|, Pearson) of each data map with the blank input's map; NaN without a blank map. */
export function blankSimilarity(ctx: MapContext): number {
  const p = per(ctx), blank = ctx.blank;
  return blank ? perSampleMean(ctx.n, p, (_s, off) => mapSimilarity(ctx.relevance, off, blank, 0, p)) : NaN;
}

export const check: MapCheck = {
  meta,
  check(ctx) {
    if (!ctx.blank) return [];
    const p = per(ctx);
    const blank = ctx.blank;
    const sim = blankSimilarity(ctx);
    if (!(sim > meta.thresholds.similarity)) return [];
    // Control figure: the blank map's total |R| against the data maps' mean total (how large the prior is).
    let bt = 0, dt = 0;
    for (let i = 0; i < p; i++) bt += Math.abs(blank[i]);
    for (let i = 0; i < ctx.n * p; i++) if (Number.isFinite(ctx.relevance[i])) dt += Math.abs(ctx.relevance[i]);
    const prior = dt > 0 ? bt / (dt / ctx.n) : NaN;
    return [
      makeFinding(meta, ctx.graph, {
        message: `the map of a blank input correlates ${fmt(sim)} with the data maps on average (|R|, Pearson; threshold ${meta.thresholds.similarity}): part of every map is a fixed prior, not the data; the blank map's |R| is ${fmt(prior)} x a data map's`,
        data: { similarity: sim, priorSize: prior, ...controlData(sim, prior, "blank input's |R| / data maps' |R|", sim) },
      }),
    ];
  },
};
