/** LRP206: the maps of the top class and the runner-up are nearly the same. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import { cosine, perSampleMean } from '../map-stats.js';
import { per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP206',
  title: 'Class-insensitive maps',
  // Information only: on the benchmark the z+ chain (epsilon-plus on five convs) gave cosine -0.23 and
  // epsilon -0.11 (two-class softmax models): the check did not separate them.
  severity: 'information',
  thresholds: { cosine: 0.9 },
  remedy: 'Use epsilon or gamma on the upper layers instead of a z+ chain; explain a contrast of the two classes (target A-B).',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    if (!ctx.runnerUp) return [];
    const p = per(ctx);
    const runnerUp = ctx.runnerUp;
    const c = perSampleMean(ctx.n, p, (_s, off) => cosine(ctx.relevance, runnerUp, off, p));
    if (!(c > meta.thresholds.cosine)) return [];
    return [
      makeFinding(meta, ctx.graph, {
        message: `the maps for the top class and the runner-up have mean cosine similarity ${fmt(c)} (threshold ${meta.thresholds.cosine}): the map shows what the network looks at, not why it chose the class`,
        data: { cosine: c },
      }),
    ];
  },
};
