/** LRP111: a layer that loads and runs but that LRP cannot propagate relevance through. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import type { LayerNode } from '../../model/graph.js';
import type { Finding } from '../finding.js';

export const meta: CheckMeta = {
  code: 'LRP111',
  title: 'Layer LRP cannot propagate',
  severity: 'error',
  thresholds: {},
  remedy: 'Replace the layer with one LRP supports, or explain the sub-model that ends before it.',
};

/**
 * Without the engine's own answer: what the engine (lrp/engine.ts, lrp/linear.ts) refuses by design.
 * Every 1-D/2-D kind has a rule there (Multiply: equal split; Maximum/Minimum: the gradient; Recurrent:
 * lrp/recurrent.ts); 3-D convolutions do not. Failures found only when running are reported by the map
 * checks' collector.
 */
export function defaultSupport(node: LayerNode): string | null {
  if ((node.kind === 'Conv' || node.kind === 'DepthwiseConv') && node.params.rank === 3) return '3-D convolutions are not supported by the LRP engine';
  return null;
}

export const check: StaticCheck = {
  meta,
  check({ graph, opts }) {
    const support = opts.lrpSupport ?? defaultSupport;
    const out: Finding[] = [];
    for (const node of graph.nodes) {
      const why = support(node, graph);
      if (why) out.push(makeFinding(meta, graph, { node, message: `LRP cannot propagate relevance through ${label(node)}: ${why}`, data: { kind: node.kind } }));
    }
    return out;
  },
};
