/** LRP104: BatchNormalization that cannot be merged into the linear layer right before it. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import { isLinear } from '../geometry.js';
import { consumers, type LayerNodeOf, type ModelGraph } from '../../model/graph.js';
import type { Finding } from '../finding.js';

export const meta: CheckMeta = {
  code: 'LRP104',
  title: 'BatchNormalization that cannot be merged',
  severity: 'warning',
  thresholds: {},
  remedy: 'Put BatchNormalization right after the Dense/Conv layer and before its activation, so canonization merges it into the layer and LRP sees one linear map.',
};

/** Why `bn` cannot be folded into its producer, or null when it can. */
export function unmergeableReason(bn: LayerNodeOf<'BatchNorm'>, graph: ModelGraph): string | null {
  const prev = graph.nodes.find((n) => n.name === bn.inbound[0]);
  if (!prev || prev.kind === 'Input') return 'it is the first layer (it acts on the raw input)';
  if (prev.kind === 'Add' || prev.kind === 'Subtract' || prev.kind === 'Average' || prev.kind === 'Concatenate')
    return `it follows the merge layer ${label(prev)}`;
  if (!isLinear(prev)) {
    if (prev.kind === 'Activation') return `it follows the activation ${label(prev)} (${prev.params.activation.name})`;
    return `it follows ${label(prev)}, which is not a Dense or Conv layer`;
  }
  if (prev.activation.name !== 'linear') return `it follows the ${prev.activation.name} activation of ${label(prev)}`;
  if (consumers(graph, prev.name).length > 1) return `${label(prev)} also feeds other layers`;
  if (prev.kind === 'Dense' && bn.params.axis !== -1 && bn.params.axis !== prev.outputShape.length - 1) return 'it normalizes an axis other than the units';
  return null;
}

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    for (const node of graph.nodes) {
      if (node.kind !== 'BatchNorm') continue;
      const why = unmergeableReason(node, graph);
      if (why)
        out.push(
          makeFinding(meta, graph, {
            node,
            message: `${label(node)} cannot be merged into a preceding linear layer: ${why}; LRP must treat it as its own affine layer, which shifts and rescales relevance`,
            data: { reason: why },
          }),
        );
    }
    return out;
  },
};
