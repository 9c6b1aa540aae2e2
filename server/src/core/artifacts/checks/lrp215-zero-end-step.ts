/** LRP215: the first or last step of a sequence map gets exactly zero relevance although its input is not zero. */
import type { CheckMeta, MapCheck } from '../check.js';
import { makeFinding, pct } from '../check.js';
import type { Finding } from '../finding.js';
import { isSequenceMap, stepSums, steps } from './sequence-common.js';

export const meta: CheckMeta = {
  code: 'LRP215',
  title: 'First or last step gets no relevance',
  severity: 'warning',
  // Structural: an exact zero is no statistic; half the samples makes it systematic.
  // neighbourFloor: the next step in gets at least 1 % of an even share (a faded end is LRP213's).
  thresholds: { sampleShare: 0.5, neighbourFloor: 0.01 },
  remedy: 'A step with non-zero input and exactly zero relevance is never read: the model crops or masks it, or the implementation drops it (an off-by-one in the time loop, a state initialized from the first step). Check the layers before the recurrent one and how the explanation was computed; the step cannot carry evidence in this map.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    if (!isSequenceMap(ctx)) return [];
    const { T, F } = steps(ctx);
    const out: Finding[] = [];
    for (const [name, t] of [['first', 0], ['last', T - 1]] as const) {
      let zero = 0, m = 0;
      for (let s = 0; s < ctx.n; s++) {
        const r = stepSums(ctx.relevance, s * T * F, T, F);
        const x = stepSums(ctx.x, s * T * F, T, F);
        const total = r.reduce((a, b) => a + b, 0);
        if (!(total > 0) || !(x[t] > 0)) continue;
        m++;
        const next = t === 0 ? r[1] : r[T - 2];
        if (r[t] === 0 && next >= (meta.thresholds.neighbourFloor * total) / T) zero++;
      }
      const share = m ? zero / m : 0;
      if (!(m > 0 && share >= meta.thresholds.sampleShare)) continue;
      out.push(
        makeFinding(meta, ctx.graph, {
          message: `the ${name} step (step ${t} of ${T}) gets exactly zero relevance in ${zero} of ${m} samples (${pct(share)}; threshold ${pct(meta.thresholds.sampleShare)}) although its input is not zero, while the next step in carries relevance (at least ${pct(meta.thresholds.neighbourFloor)} of an even share)`,
          // step: the panel marks this step on the map and the bars.
          data: { step: t, steps: T, end: name, sampleShare: share, samples: m },
        }),
      );
    }
    return out;
  },
};
