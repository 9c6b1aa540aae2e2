/** LRP112: a long chain of z+ (alpha1-beta0) layers makes maps insensitive to the explained class. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { makeFinding } from '../check.js';
import { rulesFor } from '../composite-rules.js';
import { isLinear } from '../geometry.js';

export const meta: CheckMeta = {
  code: 'LRP112',
  title: 'Class-insensitive maps from a z+ chain',
  severity: 'warning',
  // Literature figure (Sixt et al. 2020, "When explanations lie"): maps converge to one class-independent
  // pattern as z+ layers stack up; five is where we start warning.
  thresholds: { chainLength: 5 },
  remedy: 'Use epsilon or gamma on the upper layers (epsilon-gamma-box), or z+ only on the lowest few layers; compare the maps of two classes (LRP206).',
};

export const check: StaticCheck = {
  meta,
  check({ graph, opts }) {
    if (!opts.composite) return [];
    const rules = rulesFor(graph, opts.composite, opts.ruleMap);
    if (!rules) return [];
    let run: string[] = [];
    let best: string[] = [];
    // The chain is over the linear layers in graph order (activations and pooling between them pass relevance on).
    for (const node of graph.nodes.filter(isLinear)) {
      if (rules.get(node.name) === 'zplus') run.push(node.name);
      else run = [];
      if (run.length > best.length) best = run.slice();
    }
    if (best.length < meta.thresholds.chainLength) return [];
    const first = graph.nodes.find((n) => n.name === best[0])!;
    return [
      makeFinding(meta, graph, {
        node: first,
        message: `composite '${opts.composite}'${opts.ruleMap?.length ? ' with its rule map' : ''} applies z+ (alpha1-beta0) to ${best.length} consecutive layers (${best[0]} .. ${best[best.length - 1]}; threshold: ${meta.thresholds.chainLength}): such chains give nearly the same map whatever class is explained`,
        data: { chainLength: best.length, layers: best.join(',') },
      }),
    ];
  },
};
