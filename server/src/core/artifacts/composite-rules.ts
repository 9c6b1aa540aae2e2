/**
 * Which rule family a composite gives each node, as the checks need it (LRP112, LRP205). Asked of the
 * engine's own composites (core/lrp/composites.ts) on the graph the engine explains (canonicalized),
 * so the checks and the engine cannot disagree; a user rule map is resolved the same way.
 */
import type { ModelGraph } from '../model/graph.js';
import { canonicalize } from '../model/canonicalize.js';
import { buildComposite, type RuleMapEntry } from '../lrp/composites.js';
import { isCompositeName, type RuleFamily } from '../names.js';

/**
 * Rule family per node name under `composite` (and `ruleMap` on top), or undefined for a name that is
 * no composite (a gradient baseline, a typo): there is then nothing to judge.
 */
export function rulesFor(graph: ModelGraph, composite: string, ruleMap: RuleMapEntry[] = []): Map<string, RuleFamily> | undefined {
  if (!isCompositeName(composite)) return undefined;
  const { rules } = buildComposite(canonicalize(graph).graph, composite, {}, ruleMap);
  return new Map([...rules].map(([name, rule]) => [name, rule.family]));
}
