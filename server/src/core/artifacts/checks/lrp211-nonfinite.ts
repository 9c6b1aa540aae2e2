/** LRP211: non-finite or exploding relevance, with the layer where it starts. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import { countNonFinite } from '../map-stats.js';
import { per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP211',
  title: 'Non-finite or exploding relevance',
  severity: 'error',
  thresholds: { explode: 1e6 },
  remedy: 'A denominator near zero: use epsilon (or a larger epsilon) on the named layer instead of LRP-0, and check the input for NaN or fill values.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    const p = per(ctx);
    const rel = ctx.relevance.subarray(0, ctx.n * p);
    const bad = countNonFinite(rel);
    let maxAbs = 0;
    for (const v of rel) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
    const scale = Math.max(...ctx.initial.map((v) => Math.abs(v)).filter(Number.isFinite), 1e-30);
    const factor = maxAbs / scale;
    if (bad === 0 && !(factor > meta.thresholds.explode)) return [];
    // Where it starts: the engine's answer, else the first layer in the conservation report that is non-finite or exploded.
    let where = ctx.firstNonFinite;
    if (!where && ctx.layerSums)
      for (const l of ctx.layerSums)
        if (l.sums.some((s) => !Number.isFinite(s) || Math.abs(s) > meta.thresholds.explode * scale)) {
          where = { name: l.name, index: l.index };
          break;
        }
    const node = where ? ctx.graph.nodes[where.index] : undefined;
    // NaN in the data (unfilled missing cells) spreads through the forward pass: name it as the origin.
    const badInput = countNonFinite(ctx.x.subarray(0, ctx.n * p));
    return [
      makeFinding(meta, ctx.graph, {
        node,
        message:
          (bad > 0 ? `${bad} input relevance values are NaN or infinite` : `input relevance reaches ${fmt(factor)} x the output relevance (threshold ${fmt(meta.thresholds.explode)})`) +
          (badInput > 0 ? `; the input itself holds ${badInput} NaN or infinite values (missing cells not filled?)` : '') +
          (where ? `; going from the output to the input it first appears in the relevance of layer '${where.name}'` : ''),
        data: { nonFinite: bad, factor, layer: where?.name ?? '', nonFiniteInputs: badInput },
      }),
    ];
  },
};
