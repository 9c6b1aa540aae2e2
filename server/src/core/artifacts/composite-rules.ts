/**
 * Which rule a named composite gives each linear layer, as the static checks need it (LRP112, LRP205).
 * The LRP engine owns the real composites; this is the same table in the form "node -> rule name", kept
 * here so the static checks run without the engine (and on a composite name alone, before any data).
 */
import type { LayerNode, ModelGraph } from '../model/graph.js';
import { isLinear } from './geometry.js';
import { ownTable } from '../own-table.js';

export type RuleName = 'epsilon' | 'zplus' | 'gamma' | 'zbox' | 'alpha2beta1' | 'flat' | 'other';

interface Table {
  dense: RuleName;
  conv: RuleName;
  first?: RuleName;
}

const TABLES: Record<string, Table> = ownTable({
  epsilon: { dense: 'epsilon', conv: 'epsilon' },
  'epsilon-plus': { dense: 'epsilon', conv: 'zplus' },
  'epsilon-gamma-box': { dense: 'epsilon', conv: 'gamma', first: 'zbox' },
  'epsilon-alpha2-beta1': { dense: 'epsilon', conv: 'alpha2beta1' },
  'epsilon-plus-flat': { dense: 'epsilon', conv: 'zplus', first: 'flat' },
  'epsilon-alpha2-beta1-flat': { dense: 'epsilon', conv: 'alpha2beta1', first: 'flat' },
  'preset-a': { dense: 'epsilon', conv: 'zplus' },
  'preset-b': { dense: 'epsilon', conv: 'alpha2beta1' },
  'preset-a-flat': { dense: 'epsilon', conv: 'zplus', first: 'flat' },
  'preset-b-flat': { dense: 'epsilon', conv: 'alpha2beta1', first: 'flat' },
  // z+ (alpha1-beta0) on every linear layer: the "z+ chain".
  zplus: { dense: 'zplus', conv: 'zplus' },
  'alpha1-beta0': { dense: 'zplus', conv: 'zplus' },
  flat: { dense: 'flat', conv: 'flat' },
});

export function knownComposite(name: string): boolean {
  return name.replace(/_/g, '-').toLowerCase() in TABLES;
}

/** Rule per linear node for `composite`, or undefined for a name not in the table (a user rule map). */
export function rulesFor(graph: ModelGraph, composite: string): Map<string, RuleName> | undefined {
  const t = TABLES[composite.replace(/_/g, '-').toLowerCase()];
  if (!t) return undefined;
  const linear = graph.nodes.filter(isLinear);
  const m = new Map<string, RuleName>();
  linear.forEach((n: LayerNode, i) => {
    const base = n.kind === 'Dense' ? t.dense : t.conv;
    m.set(n.name, i === 0 && t.first ? t.first : base);
  });
  return m;
}
