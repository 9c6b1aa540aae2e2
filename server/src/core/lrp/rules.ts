/**
 * LRP rules as data, in Zennit's style: a rule on a linear layer (Dense, Conv, DepthwiseConv) is a set
 * of modified forward passes (input modifier, weight modifier, bias modifier), grouped into stabilized
 * denominators (the gradient mapper), and a weighted sum of input x vector-Jacobian product per pass
 * (the reducer):
 *
 *   z_g   = sum_{i in g} sign_i * f(in_i(x); w_i, b_i)                        one denominator per group
 *   d_g   = mask_g(z) * R_out / stab_g(z_g)
 *   R_in  = sum_i coeff_i * in_i(x) * J_{w_i}^T d_{group(i)}                  J: the layer's Jacobian
 *
 * Written this way every Zennit rule is a few lines of data, and the engine can fuse all passes of a
 * layer into one forward and one backward convolution (see linear.ts) without knowing any rule.
 */

import type { RecurrentRuleName, RuleFamily } from '../names.js';

/** How a pass transforms the layer input. Constant modifiers (ones, low, high) do not depend on x. */
export type InputMod = 'id' | 'pos' | 'neg' | 'ones' | 'low' | 'high';

/** How a pass transforms a parameter (kernel or bias). */
export type ParamMod =
  | { op: 'id' }
  | { op: 'pos' }
  | { op: 'neg' }
  | { op: 'zero' }
  | { op: 'ones' }
  | { op: 'square' }
  /** Zennit's GammaMod: p + gamma * clamp(p, min 0) ('pos') or clamp(p, max 0) ('neg'). */
  | { op: 'gamma'; gamma: number; part: 'pos' | 'neg' };

export interface Stabilizer {
  /** z + eps * sign(z) with sign(0) = +1. */
  epsilon: number;
  /** Scale eps by the RMS of z over each sample (Zennit's norm_scale). */
  rms?: boolean;
}

export interface RulePass {
  input: InputMod;
  weight: ParamMod;
  bias: ParamMod;
  /** Denominator group this pass contributes to. */
  group: number;
  /** Sign of this pass's output in its group's denominator. */
  sign: 1 | -1;
  /** Weight of this pass's term in the reducer. */
  coeff: number;
}

export interface RuleGroup {
  stabilizer: Stabilizer;
  /** Only where the unmodified output z is positive / negative (generalized gamma). */
  mask?: 'pos' | 'neg';
  /**
   * Where the mask is on, the denominator has the mask's sign (gamma with its bias: z plus gamma times
   * same-signed terms), so the stabilizer's sign test can be skipped. Not true without the bias.
   */
  maskSign?: boolean;
}

/** Bounds for ZBox: scalars or one value per input channel (channels-last, broadcast over space). */
export interface Bounds {
  low: number | number[];
  high: number | number[];
}

export interface LinearRule {
  type: 'linear';
  /** Display name with its parameters, e.g. 'epsilon(1e-6)'. */
  name: string;
  /** What the checks reason about (a z+ chain, a flat first layer); never recovered from `name`. */
  family: RuleFamily;
  passes: RulePass[];
  groups: RuleGroup[];
  bounds?: Bounds;
}

/** Relevance passes through unchanged (activations, identities; any layer with equal in/out shapes). */
export interface PassRule {
  type: 'pass';
  name: string;
  family: 'pass';
}

/** Plain gradient (route back: reshapes, concatenation, max-pool winner-take-all). */
export interface GradientRule {
  type: 'gradient';
  name: string;
  family: 'gradient';
}

/** Proportional rule (Zennit's Norm): R_in_k = x_k * J_k^T (R_out / stab(f(x))). Sums, averages, avg pooling. */
export interface NormRule {
  type: 'norm';
  name: string;
  family: 'norm';
  stabilizer: Stabilizer;
}

/** Split relevance equally among the inputs (products, where proportional shares have no meaning). */
export interface SplitRule {
  type: 'split';
  name: string;
  family: 'split';
}

/**
 * Recurrent layers (lrp/recurrent.ts). The rule names a user can pick, each with its variant:
 *   lstm-epsilon       Arras et al. 2017/2019: epsilon on every linear map, signal-take-all at the gates,
 *                      state sums split by epsilon (the default of every composite);
 *   lstm-conservative  the same with bias and stabilizer shares spread over the inputs (bias_factor 1):
 *                      the layer conserves relevance exactly;
 *   esn                z+ without biases inside each step, a leaky state split a : (1 - a) (Landt-Hayen
 *                      et al. 2022), SimpleRNN only;
 *   lstm-uniform       AttnLRP's uniform rule: each gate-signal product halves its relevance between them;
 *   lstm-gradient-x-input  the layer's Jacobian: x * J^T (R / stab(y)) (lrp/recurrent-alt.ts).
 * They apply to SimpleRNN, LSTM and GRU cells alike ('lstm-' after the paper that defined them). The names
 * are declared in names.ts (RECURRENT_RULE_NAMES).
 */
export type RecurrentVariant = 'epsilon' | 'conservative' | 'esn' | 'uniform' | 'gradient';
export const RECURRENT_RULES: Readonly<Record<RecurrentRuleName, RecurrentVariant>> = {
  'lstm-epsilon': 'epsilon',
  'lstm-conservative': 'conservative',
  esn: 'esn',
  'lstm-uniform': 'uniform',
  'lstm-gradient-x-input': 'gradient',
};
export type { RecurrentRuleName };

export interface RecurrentRule {
  type: 'recurrent';
  name: string;
  family: 'recurrent';
  variant: RecurrentVariant;
  stabilizer: number;
}

export type Rule = LinearRule | PassRule | GradientRule | NormRule | SplitRule | RecurrentRule;

export const DEFAULT_STABILIZER = 1e-6;

const ID: ParamMod = { op: 'id' };
const POS: ParamMod = { op: 'pos' };
const NEG: ParamMod = { op: 'neg' };
const ZERO: ParamMod = { op: 'zero' };

export interface RuleOptions {
  /** Leave the bias out of every pass (Zennit's zero_params=['bias']). */
  noBias?: boolean;
}

function finish(rule: LinearRule, opts: RuleOptions): LinearRule {
  if (!opts.noBias) return rule;
  return {
    ...rule,
    name: `${rule.name}[no-bias]`,
    passes: rule.passes.map((p) => ({ ...p, bias: ZERO })),
    groups: rule.groups.map(({ maskSign: _drop, ...g }) => g),
  };
}

function pass(input: InputMod, weight: ParamMod, bias: ParamMod, group = 0, sign: 1 | -1 = 1, coeff = 1): RulePass {
  return { input, weight, bias, group, sign, coeff };
}

/** LRP-0: epsilon 0 (zero denominators still get sign(0)=+1 times 0, so they stay zero: callers beware). */
export function lrp0(opts: RuleOptions = {}): LinearRule {
  return finish({ type: 'linear', name: 'lrp0', family: 'lrp0', passes: [pass('id', ID, ID)], groups: [{ stabilizer: { epsilon: 0 } }] }, opts);
}

/** LRP-epsilon: z + eps*sign(z). With `rms`, eps is scaled by the RMS of z over each sample. */
export function epsilon(eps = DEFAULT_STABILIZER, opts: RuleOptions & { rms?: boolean } = {}): LinearRule {
  return finish(
    {
      type: 'linear',
      name: opts.rms ? `epsilon-rms(${eps})` : `epsilon(${eps})`,
      family: 'epsilon',
      passes: [pass('id', ID, ID)],
      groups: [{ stabilizer: { epsilon: eps, rms: opts.rms } }],
    },
    opts,
  );
}

/**
 * Generalized gamma (Zennit 0.5): where z > 0, positive contributions x+ (w + g w+) + x- (w + g w-),
 * where z < 0, negative ones x+ (w + g w-) + x- (w + g w+). The bias (with the same modifier) enters
 * the pass of positive inputs only.
 */
export function gamma(g = 0.25, opts: RuleOptions & { stabilizer?: number } = {}): LinearRule {
  const gp: ParamMod = { op: 'gamma', gamma: g, part: 'pos' };
  const gn: ParamMod = { op: 'gamma', gamma: g, part: 'neg' };
  const st = { epsilon: opts.stabilizer ?? DEFAULT_STABILIZER };
  return finish(
    {
      type: 'linear',
      name: `gamma(${g})`,
      family: 'gamma',
      passes: [pass('pos', gp, gp, 0), pass('neg', gn, ZERO, 0), pass('pos', gn, gn, 1), pass('neg', gp, ZERO, 1)],
      groups: [
        { stabilizer: st, mask: 'pos', maskSign: true },
        { stabilizer: st, mask: 'neg', maskSign: true },
      ],
    },
    opts,
  );
}

/** Classic gamma (Montavon 2019): z = x (w + g w+) + (b + g b+), for positive inputs (after ReLU). */
export function gammaClassic(g = 0.25, opts: RuleOptions & { stabilizer?: number } = {}): LinearRule {
  const gp: ParamMod = { op: 'gamma', gamma: g, part: 'pos' };
  return finish(
    {
      type: 'linear',
      name: `gamma-classic(${g})`,
      family: 'gamma',
      passes: [pass('id', gp, gp)],
      groups: [{ stabilizer: { epsilon: opts.stabilizer ?? DEFAULT_STABILIZER } }],
    },
    opts,
  );
}

/**
 * Alpha-beta (Zennit): positive part x+ w+ + x- w- with the positive bias, negative part x+ w- + x- w+
 * with the negative bias; R = alpha * positive share - beta * negative share.
 */
export function alphaBeta(alpha = 2, beta = 1, opts: RuleOptions & { stabilizer?: number } = {}): LinearRule {
  if (!(alpha >= 0 && beta >= 0)) throw new RangeError('alpha and beta must be non-negative');
  const st = { epsilon: opts.stabilizer ?? DEFAULT_STABILIZER };
  const passes = [pass('pos', POS, POS, 0, 1, alpha), pass('neg', NEG, ZERO, 0, 1, alpha)];
  const groups: RuleGroup[] = [{ stabilizer: st }];
  if (beta !== 0) {
    passes.push(pass('pos', NEG, NEG, 1, 1, -beta), pass('neg', POS, ZERO, 1, 1, -beta));
    groups.push({ stabilizer: st });
  }
  const family = alpha === 1 && beta === 0 ? 'zplus' : 'alpha-beta';
  return finish({ type: 'linear', name: `alpha${alpha}-beta${beta}`, family, passes, groups }, opts);
}

/** z+ (Zennit ZPlus = alpha1-beta0): x+ w+ + x- w-, positive bias. */
export function zPlus(opts: RuleOptions & { stabilizer?: number } = {}): LinearRule {
  return { ...alphaBeta(1, 0, opts), name: opts.noBias ? 'z+[no-bias]' : 'z+' };
}

/** ZBox / zB: z = x w - l w+ - h w- (the biases cancel, as in Zennit), R = x J^T d - l J+^T d - h J-^T d. */
export function zBox(low: number | number[], high: number | number[], opts: RuleOptions & { stabilizer?: number } = {}): LinearRule {
  const st = { epsilon: opts.stabilizer ?? DEFAULT_STABILIZER };
  return finish(
    {
      type: 'linear',
      name: `zbox(${fmtBound(low)},${fmtBound(high)})`,
      family: 'zbox',
      passes: [pass('id', ID, ID, 0, 1, 1), pass('low', POS, POS, 0, -1, -1), pass('high', NEG, NEG, 0, -1, -1)],
      groups: [{ stabilizer: st }],
      bounds: { low, high },
    },
    opts,
  );
}

function fmtBound(b: number | number[]): string {
  return Array.isArray(b) ? `[${b.join(',')}]` : String(b);
}

/** w-square: relevance spread by w^2 (bias squared too, as Zennit does). */
export function wSquare(opts: RuleOptions & { stabilizer?: number } = {}): LinearRule {
  const sq: ParamMod = { op: 'square' };
  return finish(
    {
      type: 'linear',
      name: 'w-square',
      family: 'w-square',
      passes: [pass('ones', sq, sq)],
      groups: [{ stabilizer: { epsilon: opts.stabilizer ?? DEFAULT_STABILIZER } }],
    },
    opts,
  );
}

/** Flat: relevance spread uniformly over the receptive field (weights set to one, no bias). */
export function flat(opts: RuleOptions & { stabilizer?: number } = {}): LinearRule {
  return {
    type: 'linear',
    name: 'flat',
    family: 'flat',
    passes: [pass('ones', { op: 'ones' }, ZERO)],
    groups: [{ stabilizer: { epsilon: opts.stabilizer ?? DEFAULT_STABILIZER } }],
  };
}

export function passRule(): PassRule {
  return { type: 'pass', name: 'pass', family: 'pass' };
}

export function gradientRule(): GradientRule {
  return { type: 'gradient', name: 'gradient', family: 'gradient' };
}

/** The proportional (z) rule, Zennit's Norm. */
export function normRule(eps = DEFAULT_STABILIZER): NormRule {
  return { type: 'norm', name: 'norm', family: 'norm', stabilizer: { epsilon: eps } };
}

export function recurrentRule(name: RecurrentRuleName = 'lstm-epsilon', eps = DEFAULT_STABILIZER): RecurrentRule {
  const variant = RECURRENT_RULES[name];
  return { type: 'recurrent', name: variant === 'esn' ? name : `${name}(${eps})`, family: 'recurrent', variant, stabilizer: eps };
}

export function splitRule(): SplitRule {
  return { type: 'split', name: 'split', family: 'split' };
}

/** Apply a parameter modifier to plain values (kernels are modified once per layer, not per batch). */
export function modifyParam(mod: ParamMod, src: Float32Array): Float32Array {
  const out = new Float32Array(src.length);
  switch (mod.op) {
    case 'id':
      out.set(src);
      break;
    case 'pos':
      for (let i = 0; i < src.length; i++) out[i] = src[i] > 0 ? src[i] : 0;
      break;
    case 'neg':
      for (let i = 0; i < src.length; i++) out[i] = src[i] < 0 ? src[i] : 0;
      break;
    case 'zero':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'square':
      for (let i = 0; i < src.length; i++) out[i] = Math.fround(src[i] * src[i]);
      break;
    case 'gamma': {
      const g = mod.gamma;
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        const c = mod.part === 'pos' ? (v > 0 ? v : 0) : v < 0 ? v : 0;
        out[i] = Math.fround(v + Math.fround(g * c));
      }
      break;
    }
  }
  return out;
}

/** Parse a rule name from the command line or a rules file: 'epsilon:0.25', 'gamma:0.5', 'alpha-beta:2:1', 'zbox:-5:5', ... */
export function parseRule(spec: string): Rule {
  const [rawName, ...args] = spec.trim().split(':');
  const name = rawName.toLowerCase();
  const nums = args.map((a) => {
    const n = Number(a);
    if (!Number.isFinite(n)) throw new RangeError(`rule '${spec}': '${a}' is not a number`);
    return n;
  });
  const noBias = name.endsWith('-nobias') || name.endsWith('-no-bias');
  const base = name.replace(/-no-?bias$/, '');
  const opts = { noBias };
  if (Object.hasOwn(RECURRENT_RULES, base)) {
    // The conservative variant is the one that treats biases differently; esn ignores them already.
    if (noBias) throw new RangeError(`rule '${spec}': recurrent rules have no -nobias form (see lstm-conservative, esn)`);
    return recurrentRule(base as RecurrentRuleName, nums[0] ?? DEFAULT_STABILIZER);
  }
  switch (base) {
    case 'lrp0':
    case 'zero':
    case 'z':
      return lrp0(opts);
    case 'epsilon':
    case 'eps':
      return epsilon(nums[0] ?? DEFAULT_STABILIZER, opts);
    case 'epsilon-rms':
      return epsilon(nums[0] ?? DEFAULT_STABILIZER, { ...opts, rms: true });
    case 'gamma':
      return gamma(nums[0] ?? 0.25, opts);
    case 'gamma-classic':
      return gammaClassic(nums[0] ?? 0.25, opts);
    case 'alpha-beta':
    case 'alphabeta':
      return alphaBeta(nums[0] ?? 2, nums[1] ?? 1, opts);
    case 'alpha2-beta1':
      return alphaBeta(2, 1, opts);
    case 'alpha1-beta0':
    case 'zplus':
    case 'z+':
      return zPlus(opts);
    case 'zbox':
    case 'zb':
      return zBox(nums[0] ?? -1, nums[1] ?? 1, opts);
    case 'w-square':
    case 'wsquare':
    case 'w2':
      return wSquare(opts);
    case 'flat':
      return flat(opts);
    case 'pass':
      return passRule();
    case 'gradient':
      return gradientRule();
    case 'norm':
    case 'proportional':
      return normRule(nums[0] ?? DEFAULT_STABILIZER);
    case 'split':
      return splitRule();
    default:
      throw new RangeError(`unknown rule '${rawName}'`);
  }
}
