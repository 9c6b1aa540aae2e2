/**
 * Composites: which rule each node gets. Separate from the rules (rules.ts) and from canonization, as in
 * Zennit. Named composites follow Zennit's definitions (and iNNvestigate's presets); a user rule map
 * (by layer kind, name, index range among the linear layers, first / last linear layer) is applied on
 * top, first matching entry wins.
 */
import type { LayerKind, LayerNode, ModelGraph } from '../model/graph.js';
import { LensError } from '../errors.js';
import { isLinear } from './linear.js';
import {
  type Rule, DEFAULT_STABILIZER, RECURRENT_RULES, alphaBeta, epsilon, flat, gradientRule, gamma, normRule, parseRule, passRule,
  recurrentRule, splitRule, zBox, zPlus,
} from './rules.js';
import { COMPOSITE_NAMES } from '../names.js';

export type InitMode = 'onehot' | 'output';

// The names are declared with the other vocabularies (core/names.ts); what each does is defined here.
export { COMPOSITE_NAMES, type CompositeName } from '../names.js';

export interface CompositeOptions {
  epsilon?: number;
  gamma?: number;
  low?: number | number[];
  high?: number | number[];
  /** Max pooling: winner-take-all (the gradient, default) or routed like average pooling. */
  maxPool?: 'winner' | 'avg';
}

/** One entry of a user rule map. */
export interface RuleMapEntry {
  kind?: string;
  name?: string;
  /** Index range [from, to] (inclusive) among the linear layers (Dense/Conv/DepthwiseConv/ConvTranspose) in graph order; negative counts from the end. */
  index?: [number, number];
  first?: boolean;
  last?: boolean;
  rule: string;
}

export interface Composite {
  name: string;
  /** The output-relevance initialisation this composite's origin uses. */
  defaultInit: InitMode;
  /** Rule for each node name (Input nodes have none). */
  rules: Map<string, Rule>;
}

interface Named {
  dense: Rule;
  conv: Rule;
  /** Rule for the first linear layer matching `firstKinds`. */
  first?: { kinds: 'conv' | 'linear'; rule: Rule };
  init: InitMode;
}

function named(name: string, o: CompositeOptions): Named {
  const eps = o.epsilon ?? DEFAULT_STABILIZER;
  switch (name) {
    case 'epsilon':
      return { dense: epsilon(eps), conv: epsilon(eps), init: 'onehot' };
    case 'epsilon-plus':
      return { dense: epsilon(eps), conv: zPlus(), init: 'onehot' };
    case 'epsilon-gamma-box':
      return { dense: epsilon(eps), conv: gamma(o.gamma ?? 0.25), first: { kinds: 'conv', rule: zBox(o.low ?? -3, o.high ?? 3) }, init: 'onehot' };
    case 'epsilon-alpha2-beta1':
      return { dense: epsilon(eps), conv: alphaBeta(2, 1), init: 'onehot' };
    case 'epsilon-plus-flat':
      return { dense: epsilon(eps), conv: zPlus(), first: { kinds: 'linear', rule: flat() }, init: 'onehot' };
    case 'epsilon-alpha2-beta1-flat':
      return { dense: epsilon(eps), conv: alphaBeta(2, 1), first: { kinds: 'linear', rule: flat() }, init: 'onehot' };
    // iNNvestigate's LRPSequentialPreset A/B: epsilon (default 0.1) on dense, alpha1-beta0 / alpha2-beta1 on
    // conv; the -flat variants put the flat rule on the first layer. iNNvestigate starts from the output value.
    case 'preset-a':
    case 'preset-a-flat':
    case 'preset-b':
    case 'preset-b-flat': {
      const e = o.epsilon ?? 0.1;
      const conv = name.startsWith('preset-a') ? zPlus() : alphaBeta(2, 1);
      const first = name.endsWith('-flat') ? { kinds: 'linear' as const, rule: flat() } : undefined;
      return { dense: epsilon(e), conv, first, init: 'output' };
    }
    default:
      throw new LensError('USAGE', `unknown composite '${name}'; known: ${COMPOSITE_NAMES.join(', ')}`);
  }
}

/** Rules every composite shares for the non-linear layers (Zennit's LAYER_MAP_BASE and its gradient default). */
export function baseRule(node: LayerNode, o: CompositeOptions = {}): Rule | undefined {
  switch (node.kind) {
    case 'Input':
      return undefined;
    case 'Activation':
    case 'PReLU': // a pointwise nonlinearity like LeakyReLU (Zennit: PReLU is an Activation, rule Pass)
    case 'Identity':
      return passRule();
    case 'Add':
    case 'Average':
    case 'Subtract':
    case 'BatchNorm': // left over where it could not be merged: an affine map, shared proportionally
      return normRule();
    case 'Pool':
      return node.params.op === 'avg' || o.maxPool === 'avg' ? normRule() : gradientRule();
    case 'GlobalPool':
      return node.params.op === 'avg' ? normRule() : o.maxPool === 'avg' ? normRule() : gradientRule();
    case 'Multiply':
      return splitRule();
    default:
      return gradientRule();
  }
}

/** Parse a rule map from the command line: 'kind:Conv=gamma:0.5;name:fc1=epsilon:0.1;index:0-2=zplus;first=flat;last=epsilon:0'. */
export function parseRuleMap(text: string): RuleMapEntry[] {
  const entries: RuleMapEntry[] = [];
  for (const part of text.split(/[;,]\s*/).filter((s) => s.trim())) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new LensError('USAGE', `rule map entry '${part}' needs '=': SELECTOR=RULE`);
    const sel = part.slice(0, eq).trim();
    const rule = part.slice(eq + 1).trim();
    const colon = sel.indexOf(':');
    const key = colon < 0 ? sel : sel.slice(0, colon);
    const val = colon < 0 ? '' : sel.slice(colon + 1);
    if (key === 'first') entries.push({ first: true, rule });
    else if (key === 'last') entries.push({ last: true, rule });
    else if (key === 'kind') entries.push({ kind: val, rule });
    else if (key === 'name') entries.push({ name: val, rule });
    else if (key === 'index') {
      const m = /^(-?\d+)(?:-(-?\d+))?$/.exec(val) ?? /^(-?\d+)\.\.(-?\d+)$/.exec(val);
      if (!m) throw new LensError('USAGE', `rule map index '${val}' must be N or FROM-TO`);
      entries.push({ index: [Number(m[1]), Number(m[2] ?? m[1])], rule });
    } else throw new LensError('USAGE', `rule map selector '${sel}' must be kind:K, name:N, index:A-B, first or last`);
  }
  return entries;
}

/** Check a rule map read from JSON. */
export function validateRuleMap(v: unknown): RuleMapEntry[] {
  const list = Array.isArray(v) ? v : (v as { rules?: unknown })?.rules;
  if (!Array.isArray(list)) throw new LensError('CONFIG_ERROR', 'a rules file holds a list of {kind|name|index|first|last, rule} entries (or {"rules": [...]})');
  return list.map((e, i) => {
    if (typeof e !== 'object' || e === null || typeof (e as RuleMapEntry).rule !== 'string') {
      throw new LensError('CONFIG_ERROR', `rules entry ${i} needs a "rule" string`);
    }
    const r = e as RuleMapEntry;
    if (r.index && !(Array.isArray(r.index) && r.index.length === 2 && r.index.every(Number.isInteger))) {
      throw new LensError('CONFIG_ERROR', `rules entry ${i}: "index" must be [from, to]`);
    }
    return r;
  });
}

function kindMatches(node: LayerNode, kind: string): boolean {
  const k = kind.toLowerCase();
  if (k === 'linear') return isLinear(node);
  if (k === 'conv' || k === 'convolution') return node.kind === 'Conv' || node.kind === 'DepthwiseConv' || node.kind === 'ConvTranspose';
  return node.kind.toLowerCase() === k || node.source.className.toLowerCase() === k;
}

function ruleOf(text: string): Rule {
  try {
    return parseRule(text);
  } catch (e) {
    throw new LensError('USAGE', (e as Error).message);
  }
}

/** Resolve a named composite (or 'custom' with only a rule map over epsilon) to a rule per node. */
export function buildComposite(graph: ModelGraph, name: string, o: CompositeOptions = {}, map: RuleMapEntry[] = []): Composite {
  const base = named(name, o);
  const rules = new Map<string, Rule>();
  const linear = graph.nodes.filter(isLinear);
  let firstDone = false;
  for (const node of graph.nodes) {
    let rule = baseRule(node, o);
    if (isLinear(node)) {
      const isConv = node.kind !== 'Dense';
      rule = isConv ? base.conv : base.dense;
      if (base.first && !firstDone && (base.first.kinds === 'linear' || isConv)) {
        rule = base.first.rule;
        firstDone = true;
      }
    }
    // Recurrent layers: Arras's rule with the composite's epsilon (every composite's dense rule is epsilon).
    if (node.kind === 'Recurrent') rule = recurrentRule('lstm-epsilon', base.dense.type === 'linear' ? base.dense.groups[0].stabilizer.epsilon : DEFAULT_STABILIZER);
    const idx = linear.indexOf(node as never);
    for (const e of map) {
      if (e.kind !== undefined && !kindMatches(node, e.kind)) continue;
      if (e.name !== undefined && node.name !== e.name) continue;
      if (e.first && idx !== 0) continue;
      if (e.last && (idx < 0 || idx !== linear.length - 1)) continue;
      if (e.index) {
        if (idx < 0) continue;
        const from = e.index[0] < 0 ? linear.length + e.index[0] : e.index[0];
        const to = e.index[1] < 0 ? linear.length + e.index[1] : e.index[1];
        if (idx < from || idx > to) continue;
      }
      if (node.kind === 'Input') continue;
      const r = ruleOf(e.rule);
      if (r.type === 'linear' && !isLinear(node)) {
        throw new LensError('USAGE', `rule '${e.rule}' needs a Dense or Conv layer, but ${node.name} is ${node.kind}`, { layer: node.name });
      }
      if ((r.type === 'recurrent') !== (node.kind === 'Recurrent')) {
        const want = `one of ${Object.keys(RECURRENT_RULES).join(', ')}`;
        throw new LensError('USAGE', node.kind === 'Recurrent' ? `recurrent layer ${node.name} needs a recurrent rule (${want}), not '${e.rule}'` : `rule '${e.rule}' needs a recurrent layer, but ${node.name} is ${node.kind}`, { layer: node.name });
      }
      if (r.type === 'recurrent' && r.variant === 'esn' && node.kind === 'Recurrent' && node.params.cell !== 'simple') {
        throw new LensError('USAGE', `rule '${e.rule}' is defined for SimpleRNN cells only, but ${node.name} is a ${node.params.cell} layer`, { layer: node.name });
      }
      rule = r;
      break;
    }
    if (rule) rules.set(node.name, rule);
  }
  const suffix = map.length ? '+rules' : '';
  return { name: name + suffix, defaultInit: base.init, rules };
}

export { passRule, gradientRule, normRule, splitRule };
export type { LayerKind };
