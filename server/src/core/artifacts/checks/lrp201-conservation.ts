/** LRP201: relevance lost or gained per layer and overall. */
import type { CheckMeta, MapCheck } from '../check.js';
import { makeFinding, pct } from '../check.js';
import type { Finding } from '../finding.js';
import { per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP201',
  title: 'Relevance not conserved',
  // Information only: on the benchmark the gap separated BN after the ReLU (199 %) from BN before it
  // (5.4 %), but clean variants also showed 86-3030 % (biases comparable to small logits), so a large gap
  // is common and says "explains part of the score", not "artifact".
  severity: 'information',
  thresholds: { overall: 0.1, layer: 0.1 },
  remedy: 'Relevance lost in a layer went into its bias or the stabilizer. Rules that leave the bias out, a smaller epsilon, or a model with smaller biases conserve more; read the map as explaining the conserved share only.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    const out: Finding[] = [];
    const n = ctx.n, p = per(ctx);
    let gap = 0, k = 0;
    for (let s = 0; s < n; s++) {
      const init = ctx.initial[s];
      if (!(Math.abs(init) > 0)) continue;
      let sum = 0;
      for (let i = 0; i < p; i++) sum += ctx.relevance[s * p + i];
      if (!Number.isFinite(sum)) continue;
      gap += Math.abs(sum - init) / Math.abs(init);
      k++;
    }
    const overall = k ? gap / k : NaN;
    // The layer where the most is lost: relative change between consecutive entries of the report.
    let worst: { name: string; index: number; change: number } | undefined;
    const sums = ctx.layerSums ?? [];
    for (let j = 1; j < sums.length; j++) {
      let c = 0, m = 0;
      for (let s = 0; s < n; s++) {
        const init = ctx.initial[s];
        const a = sums[j - 1].sums[s], b = sums[j].sums[s];
        if (!(Math.abs(init) > 0) || !Number.isFinite(a) || !Number.isFinite(b)) continue;
        c += Math.abs(b - a) / Math.abs(init);
        m++;
      }
      const change = m ? c / m : 0;
      if (!worst || change > worst.change) worst = { name: sums[j].name, index: sums[j].index, change };
    }
    if (overall > meta.thresholds.overall || (worst && worst.change > meta.thresholds.layer)) {
      const node = worst ? ctx.graph.nodes[worst.index] : undefined;
      out.push(
        makeFinding(meta, ctx.graph, {
          node: node && worst && worst.change > meta.thresholds.layer ? node : undefined,
          message:
            `input relevance differs from the output's by ${pct(overall)} on average (threshold ${pct(meta.thresholds.overall)})` +
            (worst ? `; the largest change in one layer is ${pct(worst.change)} at '${worst.name}' (threshold ${pct(meta.thresholds.layer)})` : ''),
          data: { overall, worstLayerChange: worst?.change ?? NaN, worstLayer: worst?.name ?? '', samples: k, composite: ctx.composite },
        }),
      );
    }
    return out;
  },
};
