/** LRP108: biases large against the typical pre-activation, estimated from the weights alone. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { fmt, label, makeFinding, pct } from '../check.js';
import { isLinear } from '../geometry.js';
import type { Finding } from '../finding.js';

export const meta: CheckMeta = {
  code: 'LRP108',
  title: 'Large biases absorb or inject relevance',
  severity: 'information',
  // A unit's typical pre-activation for unit-variance inputs is the norm of its weight vector.
  thresholds: { ratio: 1, unitShare: 0.5 },
  remedy: 'Read the conservation report (LRP201): relevance the bias absorbs is missing from the input map. Rules that leave the bias out (or z+/gamma) change how much; retraining with bias regularization reduces it.',
};

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    for (const node of graph.nodes) {
      if (!isLinear(node)) continue;
      const k = node.weights.kernel;
      const b = node.weights.bias;
      if (!k || !b || b.data.length === 0) continue;
      const units = b.data.length;
      // Kernel layouts: Dense [in, units], Conv [...k, in/groups, filters], Depthwise [...k, in, mult]: units are the last axis
      // (for depthwise, the bias is per in*mult channel, which is also the flattened last two axes).
      const stride = units;
      const norm2 = new Float64Array(units);
      for (let i = 0; i < k.data.length; i++) norm2[i % stride] += k.data[i] * k.data[i];
      let over = 0;
      const ratios: number[] = [];
      for (let u = 0; u < units; u++) {
        const r = Math.abs(b.data[u]) / Math.max(Math.sqrt(norm2[u]), 1e-12);
        ratios.push(r);
        if (r > meta.thresholds.ratio) over++;
      }
      ratios.sort((a, c) => a - c);
      const median = ratios[Math.floor(units / 2)];
      const share = over / units;
      if (share >= meta.thresholds.unitShare)
        out.push(
          makeFinding(meta, graph, {
            node,
            message: `${label(node)}: ${pct(share)} of its ${units} units have |bias| > ${meta.thresholds.ratio} x the norm of their weights (median ratio ${fmt(median)}; threshold: ${pct(meta.thresholds.unitShare)} of units), so the bias rivals the typical pre-activation and absorbs or injects relevance`,
            data: { share, medianRatio: median, units },
          }),
        );
    }
    return out;
  },
};
