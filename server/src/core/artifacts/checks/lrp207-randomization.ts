/** LRP207: cascading randomization sanity check (Adebayo et al. 2018). */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import { perSampleMean, pearson } from '../map-stats.js';
import type { MapContext } from '../map-context.js';
import { controlData, per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP207',
  title: 'Map survives weight randomization',
  severity: 'warning',
  // Calibrated on the benchmark (32 held-out fields, all variants): ordinary epsilon maps keep 0.48-0.59
  // after randomizing every layer (their |R| follows |x|), the flat first layer keeps 1.00. 0.5 flagged
  // four clean models; 0.8 lies between the two groups.
  thresholds: { similarity: 0.8 },
  remedy: 'A pattern that survives randomization comes from the architecture or the rule (a flat or w-square first layer, padding), not from what the model learned: change the rule on the first layer or read only what changes under randomization.',
};

/**
 * Similarity of two maps of one sample: Pearson correlation of |R|. Two constant maps (the flat rule
 * gives one) are the same map: 1; a constant against a varying map: 0.
 */
export function mapSimilarity(a: Float32Array, offA: number, b: Float32Array, offB: number, len: number): number {
  const r = pearson(a, b, offA, len, true, offB);
  if (Number.isFinite(r)) return r;
  const flat = (x: Float32Array, off: number): boolean => {
    const v0 = Math.abs(x[off]);
    for (let i = 1; i < len; i++) if (Math.abs(Math.abs(x[off + i]) - v0) > 1e-6 * Math.max(v0, 1e-30)) return false;
    return true;
  };
  const fa = flat(a, offA), fb = flat(b, offB);
  if (fa && fb) return Math.abs(a[offA]) > 0 && Math.abs(b[offB]) > 0 ? 1 : NaN;
  return 0;
}

export function randomizationSimilarities(ctx: MapContext): { layers: string[]; similarity: number }[] {
  const p = per(ctx);
  return (ctx.randomized ?? []).map((lvl) => ({
    layers: lvl.layers,
    similarity: perSampleMean(ctx.n, p, (_s, off) => mapSimilarity(ctx.relevance, off, lvl.relevance, off, p)),
  }));
}

export const check: MapCheck = {
  meta,
  check(ctx) {
    const sims = randomizationSimilarities(ctx);
    if (sims.length === 0) return [];
    const full = sims[sims.length - 1];
    if (!(full.similarity > meta.thresholds.similarity)) return [];
    // Control figure: how much of that similarity |x| alone explains (epsilon and z+ multiply by the input whatever the weights).
    const p = per(ctx);
    const rnd = ctx.randomized![ctx.randomized!.length - 1].relevance;
    const copy = perSampleMean(ctx.n, p, (_s, off) => pearson(rnd, ctx.x, off, p, true));
    return [
      makeFinding(meta, ctx.graph, {
        message: `after re-initializing ${full.layers.length} layer(s) (cascading from the top), the map still correlates ${fmt(full.similarity)} with the trained model's (|R|, Pearson; threshold ${meta.thresholds.similarity}; per step: ${sims.map((s) => fmt(s.similarity)).join(', ')}); ${Number.isFinite(copy) ? `the randomized map correlates ${fmt(copy)} with |x|` : 'the randomized map is constant within each sample (a flat rule on a dense first layer gives every input the same share, whatever x is), so it does not correlate with |x| at all'}`,
        data: { similarity: full.similarity, steps: sims.map((s) => s.similarity), inputExplains: copy, ...controlData(full.similarity, copy, "randomized map's |R| vs |x| (what the input alone explains)", full.similarity - copy) },
      }),
    ];
  },
};
