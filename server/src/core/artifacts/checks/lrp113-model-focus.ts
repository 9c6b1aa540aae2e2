/** LRP113: the receptive field of the last convolutional layer, so the user sees what one unit can attend to. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding, pct } from '../check.js';

export const meta: CheckMeta = {
  code: 'LRP113',
  title: 'Model focus (receptive field)',
  severity: 'information',
  thresholds: {},
  remedy: 'Nothing to fix: a small receptive field means the model decides from local patterns combined by the dense layers; a larger one needs more or larger (or dilated) convolutions.',
};

export const check: StaticCheck = {
  meta,
  check({ graph, geometry }) {
    const convs = graph.nodes.filter((n) => (n.kind === 'Conv' || n.kind === 'DepthwiseConv' || n.kind === 'Pool') && geometry.byNode.get(n.name)?.rf.length);
    if (convs.length === 0 || geometry.inputSize.length === 0) return [];
    // A recurrent layer after the convolutions reads the whole sequence: no local receptive field to report.
    if (graph.nodes.some((n) => n.kind === 'Recurrent')) return [];
    const last = convs[convs.length - 1];
    const g = geometry.byNode.get(last.name)!;
    const rf = g.rf.map((r, i) => Math.min(r, geometry.inputSize[i]));
    const cells = rf.reduce((a, b) => a * b, 1);
    const total = geometry.inputSize.reduce((a, b) => a * b, 1);
    const share = Number.isFinite(total) && total > 0 ? cells / total : NaN;
    return [
      makeFinding(meta, graph, {
        node: last,
        message: `one unit of ${label(last)} (the last convolution or pooling) sees ${rf.join('x')} input cells (unclipped ${g.rf.join('x')}), ${pct(share)} of the ${geometry.inputSize.join('x')} input; units are ${g.jump.join('x')} cells apart`,
        data: { receptiveField: g.rf, share, jump: g.jump, input: geometry.inputSize },
      }),
    ];
  },
};
