/**
 * Which composite (or gradient baseline) explains a model, and with which parameters: one precedence
 * rule for every front end. Each value comes from the first source that gives it:
 *   request (a CLI flag, an LSP request) > the model's entry in lrp-lens.json (`explain`) > settings
 *   (lrpLens.composite / compositeParams, or a command's own workload) > default.
 * The result says where each value came from, so a front end can show it.
 */
import { LensError } from '../errors.js';
import { COMPOSITE_NAMES, BASELINE_NAMES, isBaselineName, isCompositeName, type BaselineName } from '../names.js';
import { parseRuleMap, type InitMode, type RuleMapEntry } from '../lrp/composites.js';
import { formatTarget, outputTargetSpec, parseTarget, type OutputTargetSpec, type TargetSpec } from '../lrp/targets.js';

export type ChoiceSource = 'request' | 'project' | 'settings' | 'default';

/** What one source says; every field optional. */
export interface ChoiceLayer {
  /** A composite name; a gradient baseline name here is the old spelling of `method` (still accepted). */
  composite?: string;
  /** 'lrp' (the composite) or a gradient baseline (core/names.ts BASELINE_NAMES). */
  method?: string;
  epsilon?: number;
  gamma?: number;
  /** ZBox bounds: a number or one per channel (see bounds.ts for the rule when none is given). */
  low?: number | number[];
  high?: number | number[];
  /** A rule map on top of the composite. */
  rules?: RuleMapEntry[];
  /** 'predicted', 'label', a class index, 'A-B' (contrast) or 'regression'. */
  target?: string | number;
  init?: string;
  /** Baseline parameters: integrated gradients' steps and reference, SmoothGrad's samples, noise, seed. */
  steps?: number;
  reference?: number;
  samples?: number;
  noise?: number;
  seed?: number;
  /** How the source names itself in errors ('--composite', "cnn's explain.composite", 'lrpLens.composite'). */
  origin?: string;
}

export const CHOICE_FIELDS = ['composite', 'method', 'epsilon', 'gamma', 'low', 'high', 'rules', 'target', 'init', 'steps', 'reference', 'samples', 'noise', 'seed'] as const;
export type ChoiceField = (typeof CHOICE_FIELDS)[number];

export type Method = 'lrp' | BaselineName;

export interface CompositeChoice {
  composite: string;
  method: Method;
  epsilon?: number;
  gamma?: number;
  low?: number | number[];
  high?: number | number[];
  rules: RuleMapEntry[];
  /** The target as text ('predicted', 'label', '3', '2-0', 'regression'). */
  target: string;
  init?: InitMode;
  baseline: { steps?: number; reference?: number; samples?: number; noise?: number; seed?: number };
  /** Where each value that is set came from. */
  from: Partial<Record<ChoiceField, ChoiceSource>>;
}

export const DEFAULT_COMPOSITE = 'epsilon';

export interface ChoiceLayers {
  request?: ChoiceLayer;
  project?: ChoiceLayer;
  settings?: ChoiceLayer;
}

/** A baseline given as a composite name moves to `method` (the composite then falls through). */
function normalized(l: ChoiceLayer | undefined): ChoiceLayer | undefined {
  if (!l || l.composite === undefined || !isBaselineName(l.composite)) return l;
  const { composite, ...rest } = l;
  return { ...rest, method: rest.method ?? composite };
}

export function chooseComposite(layers: ChoiceLayers): CompositeChoice {
  const order: [ChoiceSource, ChoiceLayer | undefined][] = [
    ['request', normalized(layers.request)],
    ['project', normalized(layers.project)],
    ['settings', normalized(layers.settings)],
  ];
  const from: CompositeChoice['from'] = {};
  const pick = <K extends ChoiceField>(k: K): { value: ChoiceLayer[K]; layer?: ChoiceLayer } => {
    for (const [src, l] of order) {
      if (l && l[k] !== undefined) {
        from[k] = src;
        return { value: l[k], layer: l };
      }
    }
    return { value: undefined };
  };
  const c = pick('composite');
  const composite = c.value ?? DEFAULT_COMPOSITE;
  if (c.value === undefined) from.composite = 'default';
  if (!isCompositeName(composite)) {
    throw new LensError('USAGE', `${c.layer?.origin ?? 'composite'} must be one of ${COMPOSITE_NAMES.join(', ')} (or a baseline: ${BASELINE_NAMES.join(', ')}), got '${composite}'`);
  }
  const m = pick('method');
  const method = (m.value ?? 'lrp') as string;
  if (m.value === undefined) from.method = 'default';
  if (method !== 'lrp' && !isBaselineName(method)) throw new LensError('USAGE', `${m.layer?.origin ?? 'method'} must be lrp or one of ${BASELINE_NAMES.join(', ')}, got '${method}'`);
  const t = pick('target');
  const target = t.value === undefined ? 'predicted' : String(t.value) === 'argmax' ? 'predicted' : String(t.value);
  if (t.value === undefined) from.target = 'default';
  if (target !== 'label') parseTarget(target); // a bad target is a usage error before any data is read
  const i = pick('init');
  if (i.value !== undefined && i.value !== 'onehot' && i.value !== 'output') throw new LensError('USAGE', `${i.layer?.origin ? `${i.layer.origin}: ` : ''}init must be onehot or output, got '${i.value}'`);
  const num = (k: 'epsilon' | 'gamma' | 'steps' | 'reference' | 'samples' | 'noise' | 'seed'): number | undefined => {
    const v = pick(k).value;
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new LensError('USAGE', `${k} must be a finite number, got '${String(v)}'`);
    return v;
  };
  const out: CompositeChoice = {
    composite,
    method: method as Method,
    epsilon: num('epsilon'),
    gamma: num('gamma'),
    low: pick('low').value,
    high: pick('high').value,
    rules: pick('rules').value ?? [],
    target,
    init: i.value as InitMode | undefined,
    baseline: { steps: num('steps'), reference: num('reference'), samples: num('samples'), noise: num('noise'), seed: num('seed') },
    from,
  };
  return out;
}

/** The target the engine takes ('label' is resolved per sample by the session, from the data's labels). */
export function targetSpecOf(c: Pick<CompositeChoice, 'target'>): TargetSpec {
  return parseTarget(c.target);
}

/** The composite parameters an LSP request or a setting gives as name -> number (CompositeChoice.params). */
export function layerFromParams(name: string | undefined, params: Record<string, number> | undefined, origin?: string): ChoiceLayer {
  const l: ChoiceLayer = { origin };
  if (name !== undefined) l.composite = name;
  for (const [k, v] of Object.entries(params ?? {})) {
    if ((CHOICE_FIELDS as readonly string[]).includes(k) && k !== 'composite' && k !== 'method' && k !== 'rules' && k !== 'target' && k !== 'init') {
      (l as Record<string, unknown>)[k] = v;
    }
  }
  return l;
}

/** The lrp-lens.json entry's `explain` as a layer. */
export function projectLayer(entry: { name: string; explain?: { composite?: string; target?: string | number } } | undefined): ChoiceLayer | undefined {
  if (!entry?.explain) return undefined;
  return { composite: entry.explain.composite, target: entry.explain.target, origin: `${entry.name}'s explain.composite` };
}

/** What a request (the LSP's explain/checkData, the panel) says about the choice, as sent. */
export interface RequestChoice {
  composite?: string | { name: string; params?: Record<string, number> };
  /** A class index, the CLI's --target text, or a map target (pixel, region, all). */
  target?: number | string | OutputTargetSpec;
  rules?: unknown;
  init?: unknown;
}

/** A request's own layer: its composite (a name, or a name with parameters), target, init and rule map. */
export function requestLayer(r: RequestChoice): ChoiceLayer {
  const c = r.composite;
  const l: ChoiceLayer = typeof c === 'string' ? { composite: c, origin: 'composite' } : c ? layerFromParams(c.name, c.params, 'composite.name') : {};
  if (r.target !== undefined && r.target !== null) l.target = typeof r.target === 'object' ? formatTarget(outputTargetSpec(r.target)) : r.target;
  if (r.init !== undefined && r.init !== null) {
    if (r.init !== 'onehot' && r.init !== 'output') throw new LensError('BAD_INPUT', `init must be 'onehot' or 'output' (got ${JSON.stringify(r.init)})`);
    l.init = r.init;
  }
  if (r.rules !== undefined && r.rules !== null) {
    if (typeof r.rules !== 'string' || r.rules.length > 4096) throw new LensError('BAD_INPUT', 'rules must be a rule-map spec string (as --rules)');
    l.rules = parseRuleMap(r.rules);
  }
  return l;
}
