/** LRP105: what the output non-linearity means for the explained value and its sign. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import type { LayerNode, ModelGraph } from '../../model/graph.js';
import type { Finding } from '../finding.js';

export const meta: CheckMeta = {
  code: 'LRP105',
  title: 'Output non-linearity',
  severity: 'information',
  thresholds: {},
  remedy:
    'Nothing to change for a softmax: relevance explains the logit. For a single sigmoid or a thresholded regression output, explain the signed score towards the predicted class (negate it for the negative class) or use a two-unit softmax, so relevance does not flip sign with the output.',
};

/** The output activation: the fused one of the last node, or a separate Activation node at the end. */
export function outputActivation(graph: ModelGraph, out: LayerNode): { act: string; node: LayerNode; units: number } {
  let node = out;
  let act = out.activation.name;
  if (out.kind === 'Activation') act = out.params.activation.name;
  // Look through an Activation node or identity to the layer that makes the score.
  while ((node.kind === 'Activation' || node.kind === 'Identity') && node.inbound.length === 1) {
    const prev = graph.nodes.find((n) => n.name === node.inbound[0]);
    if (!prev) break;
    node = prev;
    if (act === 'linear') act = node.activation.name;
  }
  const last = out.outputShape[out.outputShape.length - 1];
  return { act, node: out, units: typeof last === 'number' ? last : NaN };
}

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    for (const spec of graph.outputs) {
      const node = graph.nodes.find((n) => n.name === spec.node);
      if (!node) continue;
      const { act, units } = outputActivation(graph, node);
      const where = label(node);
      if (act === 'softmax' || act === 'log_softmax') {
        out.push(makeFinding(meta, graph, { node, message: `${where} ends in ${act}: relevance explains the logit before it (the softmax is stripped), not the probability`, data: { activation: act, units } }));
      } else if ((act === 'sigmoid' || act === 'hard_sigmoid') && units === 1) {
        out.push(
          makeFinding(meta, graph, {
            node,
            severity: 'warning',
            message: `${where} is a single ${act} unit: the logit's sign decides the class, so relevance of the explained logit is positive for one class and negative for the other (threshold: one output unit with a sign-deciding non-linearity)`,
            data: { activation: act, units },
          }),
        );
      } else if (act === 'sigmoid' || act === 'hard_sigmoid') {
        out.push(makeFinding(meta, graph, { node, message: `${where} ends in ${act} on ${units} units (multi-label): each unit is explained at its logit`, data: { activation: act, units } }));
      } else if (act === 'linear' && units === 1) {
        out.push(
          makeFinding(meta, graph, {
            node,
            message: `${where} is a single linear output (a regression): if its sign or a threshold decides a class (a thresholded continuous target), relevance changes sign with the output; explain the distance to the threshold instead`,
            data: { activation: act, units },
          }),
        );
      } else if (act !== 'linear') {
        out.push(makeFinding(meta, graph, { node, message: `${where} ends in ${act}: relevance explains the value before it`, data: { activation: act, units } }));
      }
    }
    return out;
  },
};
