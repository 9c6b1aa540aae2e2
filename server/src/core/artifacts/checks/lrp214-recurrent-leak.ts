/** LRP214: relevance lost or gained inside a recurrent layer (input sum vs output sum). */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, label, makeFinding, pct } from '../check.js';
import { median, signTestP } from '../map-stats.js';
import type { MapContext } from '../map-context.js';
import type { Finding } from '../finding.js';
import { recurrentNodes } from './sequence-common.js';
import { per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP214',
  title: 'Relevance leaks out of the recurrence',
  // Information: leaking is what the epsilon rule does by design where biases are large (as LRP201).
  severity: 'information',
  // leak: chosen on the recurrent benchmark's calibration seeds (docs/findings/LRP214.md).
  thresholds: { leak: 0.53 },
  remedy: 'The recurrent layer passes on only part of the relevance it receives: the rest went into its biases (gate and candidate biases, the stabilizer). Read the map as explaining the passed-on part, or use lstm-conservative (bias shares spread over the inputs), which conserves by design.',
};

/** Relevance sums per sample at a layer's input and output, from the conservation report (or the map for the model input). */
export function layerInOut(ctx: MapContext, name: string, inbound: string): { input: number[]; output: number[] } | undefined {
  const sums = ctx.layerSums ?? [];
  const out = sums.find((l) => l.name === name);
  if (!out) return undefined;
  const feeding = sums.find((l) => l.name === inbound);
  const isInput = ctx.graph.nodes.find((n) => n.name === inbound)?.kind === 'Input';
  if (feeding && !isInput) return { input: feeding.sums, output: out.sums };
  if (!isInput) return undefined;
  const p = per(ctx);
  const input = Array.from({ length: ctx.n }, (_, s) => {
    let acc = 0;
    for (let i = 0; i < p; i++) acc += ctx.relevance[s * p + i];
    return acc;
  });
  return { input, output: out.sums };
}

export const check: MapCheck = {
  meta,
  check(ctx) {
    const out: Finding[] = [];
    for (const node of recurrentNodes(ctx.graph)) {
      const io = layerInOut(ctx, node.name, node.inbound[0]);
      if (!io) continue;
      const leaks: number[] = [];
      let lost = 0;
      io.output.forEach((o, s) => {
        const i = io.input[s];
        if (!(Math.abs(o) > 0) || !Number.isFinite(i)) return;
        const l = (o - i) / Math.abs(o);
        leaks.push(l);
        if (l > 0) lost++;
      });
      const m = median(leaks.map(Math.abs));
      if (!(m > meta.thresholds.leak)) continue;
      const signed = median(leaks);
      const p = signTestP(Math.max(lost, leaks.length - lost), leaks.length);
      out.push(
        makeFinding(meta, ctx.graph, {
          node,
          message: `${label(node)} ${signed >= 0 ? 'loses' : 'gains'} ${pct(Math.abs(signed))} of the relevance it receives (median over ${leaks.length} samples; |change| ${pct(m)}, threshold ${pct(meta.thresholds.leak)}; ${signed >= 0 ? lost : leaks.length - lost} of ${leaks.length} samples the same way, sign test p = ${fmt(p)}); per-step sums are not reported by the engine, so this is the whole layer`,
          data: { leak: signed, absLeak: m, p, samples: leaks.length },
        }),
      );
    }
    return out;
  },
};
