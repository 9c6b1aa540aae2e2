/** LRP106: hidden activations that are not piecewise linear. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import type { ActivationName } from '../../model/graph.js';
import type { Finding } from '../finding.js';

export const meta: CheckMeta = {
  code: 'LRP106',
  title: 'Hidden non-ReLU activations',
  severity: 'warning',
  thresholds: {},
  remedy: 'Use ReLU (or leaky ReLU) in hidden layers; otherwise compare the map with gradient x input and read it with care.',
};

/** Activations LRP passes relevance through as if they were piecewise linear through the origin. */
const PIECEWISE_LINEAR: ActivationName[] = ['linear', 'relu', 'relu6', 'leaky_relu'];

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    const outputs = new Set(graph.outputs.map((o) => o.node));
    for (const node of graph.nodes) {
      const act = node.kind === 'Activation' ? node.params.activation.name : node.activation.name;
      if (PIECEWISE_LINEAR.includes(act)) continue;
      if (outputs.has(node.name)) continue; // the output's own non-linearity is LRP105
      out.push(
        makeFinding(meta, graph, {
          node,
          message: `${label(node)} has a hidden ${act} activation: LRP's rules assume piecewise-linear units through the origin, so relevance passed through it is not conserved and its sign may mislead`,
          data: { activation: act },
        }),
      );
    }
    return out;
  },
};
