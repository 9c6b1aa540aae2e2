/**
 * Facts about a canonical graph under a composite that let the lowering leave out work that is provably
 * zero (the prototype halved its time this way with bit-identical output):
 *
 * - nonNegative(t): t >= 0 everywhere (after ReLU, and what max/avg pooling, reshapes and sums keep).
 *   A linear rule's x- pass is then zero and its x+ pass is x itself.
 * - positiveOnly(t): the relevance at t is zero wherever t <= 0. True at the input of a plain ReLU whose
 *   output's relevance is zero wherever that output is zero (zeroWhereZero), which holds when every
 *   consumer multiplies its relevance by its input (linear rules without constant inputs, the norm rule)
 *   or routes relevance only to cells equal to a non-zero output (max pooling, reshapes, pass).
 *   A rule group masked to z < 0 (generalized gamma's negative half) then gets no relevance.
 */
import type { LayerNode, ModelGraph } from '../model/graph.js';
import type { Rule } from '../lrp/rules.js';

const NON_NEGATIVE_ACTIVATIONS = new Set(['relu', 'relu6', 'sigmoid', 'hard_sigmoid', 'softplus', 'exponential', 'softmax']);
const SHAPE_ONLY = new Set(['Flatten', 'Reshape', 'Identity', 'Permute', 'ZeroPadding', 'Cropping']);

export interface GraphFacts {
  nonNegative: Set<string>;
  positiveOnly: Set<string>;
}

function plainRelu(n: LayerNode): boolean {
  if (n.kind !== 'Activation') return false;
  const a = n.params.activation;
  return a.name === 'relu' && !a.alpha && !a.threshold;
}

export function graphFacts(graph: ModelGraph, rules: Map<string, Rule>, outputNode: string): GraphFacts {
  const nonNegative = new Set<string>();
  for (const n of graph.nodes) {
    const ins = n.inbound.every((i) => nonNegative.has(i)) && n.inbound.length > 0;
    let v = false;
    if (n.kind === 'Activation') v = NON_NEGATIVE_ACTIVATIONS.has(n.params.activation.name) && !n.params.activation.alpha;
    else if (n.kind === 'Pool' || n.kind === 'GlobalPool' || SHAPE_ONLY.has(n.kind) || n.kind === 'Concatenate' || n.kind === 'Add' || n.kind === 'Average') v = ins;
    if (v) nonNegative.add(n.name);
  }
  const consumers = new Map<string, LayerNode[]>();
  for (const n of graph.nodes) for (const i of n.inbound) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  // zeroWhereZero(t): relevance at t vanishes where t == 0. positiveOnly(t): vanishes where t <= 0.
  const zeroWhereZero = new Set<string>();
  const positiveOnly = new Set<string>();
  for (const n of [...graph.nodes].reverse()) {
    const cs = consumers.get(n.name) ?? [];
    if (n.name === outputNode || !cs.length) continue;
    const each = (f: (c: LayerNode) => 'pos' | 'zero' | 'none'): 'pos' | 'zero' | 'none' => {
      let worst: 'pos' | 'zero' | 'none' = 'pos';
      for (const c of cs) {
        const v = f(c);
        if (v === 'none') return 'none';
        if (v === 'zero') worst = 'zero';
      }
      return worst;
    };
    const verdict = each((c) => {
      const rule = rules.get(c.name);
      if (!rule) return 'none';
      if (rule.type === 'linear') return rule.passes.every((p) => p.input === 'id' || p.input === 'pos' || p.input === 'neg') ? 'zero' : 'none';
      if (rule.type === 'norm') return 'zero';
      if (plainRelu(c) && rule.type === 'pass') return zeroWhereZero.has(c.name) ? 'pos' : 'none';
      const routes = (rule.type === 'pass' || rule.type === 'gradient') && (SHAPE_ONLY.has(c.kind) || (c.kind === 'Pool' && c.params.op === 'max') || (c.kind === 'GlobalPool' && c.params.op === 'max'));
      if (routes && c.inbound.length === 1) return positiveOnly.has(c.name) ? 'pos' : zeroWhereZero.has(c.name) ? 'zero' : 'none';
      return 'none';
    });
    if (verdict !== 'none') zeroWhereZero.add(n.name);
    if (verdict === 'pos') positiveOnly.add(n.name);
  }
  return { nonNegative, positiveOnly };
}
