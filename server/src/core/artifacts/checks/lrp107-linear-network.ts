/** LRP107: no non-linearity between the linear layers: LRP is gradient x input of one fixed linear map. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { makeFinding } from '../check.js';
import { isLinear } from '../geometry.js';
import type { LayerNode } from '../../model/graph.js';

export const meta: CheckMeta = {
  code: 'LRP107',
  title: 'Purely linear network',
  severity: 'warning',
  thresholds: {},
  remedy: 'Read the map as the fixed weight pattern times the input (it says nothing a linear regression would not), or add non-linear hidden units if the task needs them.',
};

function isNonLinear(node: LayerNode, isOutput: boolean): boolean {
  const act = node.kind === 'Activation' ? node.params.activation.name : node.activation.name;
  // The output's softmax/sigmoid is stripped before LRP, so it does not make the explained map non-linear.
  if (act !== 'linear' && !isOutput) return true;
  if ((node.kind === 'Pool' || node.kind === 'GlobalPool') && node.params.op === 'max') return true;
  // A recurrent layer's gates and cell activation make it non-linear whatever its fused activation.
  return node.kind === 'Multiply' || node.kind === 'Maximum' || node.kind === 'Minimum' || node.kind === 'Recurrent';
}

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const linear = graph.nodes.filter(isLinear);
    if (linear.length === 0) return [];
    const outputs = new Set(graph.outputs.map((o) => o.node));
    // An Activation node at the end belongs to the output too.
    for (const o of graph.nodes) if (o.kind === 'Activation' && outputs.has(o.name)) o.inbound.forEach((n) => outputs.add(n));
    if (graph.nodes.some((n) => isNonLinear(n, outputs.has(n.name)))) return [];
    return [
      makeFinding(meta, graph, {
        message: `the network has ${linear.length} linear layer(s) and no non-linearity between them (threshold: none): the explained score is one linear function of the input, so LRP-0/epsilon give gradient x input, a fixed pattern times the input`,
        data: { linearLayers: linear.length },
      }),
    ];
  },
};
