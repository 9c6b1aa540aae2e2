/**
 * A LinearRule (rules.ts: passes of input x weight x bias modifiers, stabilized denominator groups, reducer
 * coefficients) as ONNX ops, read from the rule's data as the tfjs engine's PreparedLinearRule reads it:
 *
 *   z_g  = sum_i sign_i f(in_i(x); w_i) + bias_g          d_g = mask_g R / stab(z_g)
 *   R_in = sum_a in_a(x) * J^T_{K_a} [d_g]_g              (constant inputs folded into one slice)
 *
 * Passes are combined per (input, group) block; on Dense and ungrouped Conv all modified forwards are one
 * op (inputs stacked along channels, groups along outputs) and all VJPs one op. Exact savings, each a fact
 * about the graph (facts.ts): x- drops out and x+ is x where x >= 0; a group masked to z < 0 drops out
 * where the layer above passes relevance only where z > 0; a group whose only pass is the layer itself
 * reuses the forward output z (epsilon, ZBox's x pass). Stabilizer: z + Where(z >= 0, eps, -eps), which
 * is Zennit's sign(0) = +1 (ONNX Sign(0) is 0).
 */
import type { LinearLayer } from '../lrp/linear.js';
import { type InputMod, type LinearRule, type ParamMod, type Stabilizer, modifyParam } from '../lrp/rules.js';
import type { GraphWriter } from './graph-writer.js';
import { type ConvGeometry, linearForward, linearVjp, onnxKernel, refuse } from './linear-ops.js';

const CONSTANT: InputMod[] = ['ones', 'low', 'high'];

export interface LinearContext {
  w: GraphWriter;
  layer: LinearLayer;
  geo: ConvGeometry | undefined;
  /** Layer input (channels-first), its IR shape, the forward output z (with bias) and the relevance at z. */
  x: string;
  xShape: (number | null)[];
  z: string;
  r: string;
  /** x >= 0 everywhere (facts.ts). */
  xNonNegative: boolean;
  /** The relevance at z is zero wherever z <= 0 (facts.ts). */
  rOnlyPositive: boolean;
}

interface Block {
  input: InputMod;
  group: number;
  fwd: Float32Array;
  bwd: Float32Array;
}

/** z + Where(z >= 0, eps, -eps) (eps scaled by the per-sample RMS of z with `rms`). */
export function stabilizeOnnx(w: GraphWriter, z: string, st: Stabilizer, rank: number): string {
  if (st.epsilon === 0 && !st.rms) return z;
  const nonNeg = w.o('GreaterOrEqual', [z, w.scalar(0)], {}, 'z_ge0');
  if (!st.rms) return w.o('Add', [z, w.o('Where', [nonNeg, w.scalar(st.epsilon), w.scalar(-st.epsilon)], {}, 'eps')], {}, 'stab');
  const axes = Array.from({ length: rank - 1 }, (_, i) => i + 1);
  const rms = w.o('Sqrt', [w.o('ReduceMean', [w.o('Mul', [z, z])], { axes, keepdims: 1 })], {}, 'rms');
  const sign = w.o('Where', [nonNeg, w.scalar(1), w.scalar(-1)], {}, 'sign');
  return w.o('Add', [z, w.o('Mul', [sign, w.o('Mul', [rms, w.scalar(st.epsilon)])])], {}, 'stab');
}

/** Relevance at the layer input for `rule`. */
export function linearRuleRelevance(c: LinearContext, rule: LinearRule): string {
  const rank = c.xShape.length;
  if (c.layer.kind === 'dense' && rank !== 2) refuse(c.layer.node.name, `Dense layer ${c.layer.node.name} on a rank-${rank} input`);
  const l = new RuleLowering(c, rule);
  if (!l.varying.length && !l.constants.length) return c.w.o('Mul', [c.x, c.w.scalar(0)], {}, 'r_zero');
  return l.reduce(l.denominators());
}

/** Blocks per (input, group) of a rule's passes, without the inputs that are provably zero. */
function blocksOf(rule: LinearRule, K: Float32Array, xNonNegative: boolean): Block[] {
  const modCache = new Map<string, Float32Array>();
  const mod = (m: ParamMod): Float32Array => {
    const key = JSON.stringify(m);
    let v = modCache.get(key);
    if (!v) modCache.set(key, (v = modifyParam(m, K)));
    return v;
  };
  const blocks = new Map<string, Block>();
  for (const p of rule.passes) {
    if (p.input === 'neg' && xNonNegative) continue;
    const input: InputMod = p.input === 'pos' && xNonNegative ? 'id' : p.input;
    const key = `${input}|${p.group}`;
    let b = blocks.get(key);
    if (!b) blocks.set(key, (b = { input, group: p.group, fwd: new Float32Array(K.length), bwd: new Float32Array(K.length) }));
    const wm = mod(p.weight);
    for (let i = 0; i < wm.length; i++) {
      b.fwd[i] += p.sign * wm[i];
      b.bwd[i] += p.coeff * wm[i];
    }
  }
  return [...blocks.values()];
}

/** One rule on one layer: the blocks, the groups that can carry relevance, and the ops that use them. */
class RuleLowering {
  readonly w: GraphWriter;
  readonly layer: LinearLayer;
  /** Groups whose d can be non-zero (a group masked to z < 0 drops where relevance arrives only where z > 0). */
  readonly groups: number[];
  readonly blocks: Block[];
  readonly varying: InputMod[];
  readonly constants: InputMod[];
  readonly inputs = new Map<InputMod, string>();
  /** Groups whose z_g is a conv of x (not the stored output z). */
  readonly convGroups: number[] = [];
  private readonly rank: number;
  /** Output channels (a depthwise kernel's view has M where the layer has C * M). */
  private readonly cout: number;

  constructor(readonly c: LinearContext, readonly rule: LinearRule) {
    this.w = c.w;
    this.layer = c.layer;
    this.rank = c.xShape.length;
    this.cout = c.layer.outChannels;
    this.groups = rule.groups.map((_, g) => g).filter((g) => !(rule.groups[g].mask === 'neg' && c.rOnlyPositive));
    this.blocks = blocksOf(rule, c.layer.kernel.data, c.xNonNegative).filter((b) => this.groups.includes(b.group));
    this.varying = [...new Set(this.blocks.filter((b) => !CONSTANT.includes(b.input)).map((b) => b.input))];
    this.constants = [...new Set(this.blocks.filter((b) => CONSTANT.includes(b.input)).map((b) => b.input))];
    const name = c.layer.node.name;
    if (this.constants.length && c.xShape.slice(1, -1).some((d) => d === null)) refuse(name, `constant-input rule ${rule.name} on ${name} needs static spatial sizes`);
    const w = this.w;
    for (const m of this.varying) this.inputs.set(m, m === 'id' ? c.x : m === 'pos' ? w.o('Relu', [c.x], {}, 'x_pos') : w.o('Neg', [w.o('Relu', [w.o('Neg', [c.x])])], {}, 'x_neg'));
  }

  /** A constant input for one sample, with the layer input's channels (a grouped conv's kernel sees cin / groups). */
  private constInput(m: InputMod): string {
    const xc = this.c.xShape[this.rank - 1] as number;
    const spatial = this.c.xShape.slice(1, -1) as number[];
    return this.w.floats(`const_${m}`, constField(this.rule, m, xc, spatial, this.layer.node.name), [1, xc, ...spatial]);
  }

  private kernelAt(data: Float32Array): string {
    const k = onnxKernel(this.layer, data);
    return this.w.floats('k', k.data, k.dims);
  }

  private biasOf(g: number): Float32Array | undefined {
    const bias = this.layer.bias;
    if (!bias) return undefined;
    const sum = new Float32Array(bias.length);
    let any = false;
    for (const p of this.rule.passes) {
      if (p.group !== g || p.bias.op === 'zero') continue;
      const b = modifyParam(p.bias, bias);
      for (let i = 0; i < b.length; i++) sum[i] += p.sign * b[i];
      any = true;
    }
    return any ? sum : undefined;
  }

  private bcast(v: Float32Array): number[] {
    return this.rank === 2 ? [v.length] : [v.length, ...Array(this.rank - 2).fill(1)];
  }

  /**
   * A group masked to z > 0 whose denominator is positive there (maskSign) and whose relevance is zero
   * elsewhere (facts.ts): d = R / max(z_g + eps, eps) is R / (z_g + eps) where z > 0 and 0 / eps elsewhere,
   * so the mask and its Where drop out, and eps joins the conv's bias.
   */
  private positiveGroup(g: number): boolean {
    const spec = this.rule.groups[g];
    return this.c.rOnlyPositive && spec.mask === 'pos' && !!spec.maskSign && !spec.stabilizer.rms && spec.stabilizer.epsilon > 0;
  }

  private convBias(g: number): Float32Array | undefined {
    const bg = this.biasOf(g);
    if (!this.positiveGroup(g)) return bg;
    const out = new Float32Array(this.cout);
    for (let i = 0; i < this.cout; i++) out[i] = (bg?.[i] ?? 0) + this.rule.groups[g].stabilizer.epsilon;
    return out;
  }

  /**
   * Per group: the part that varies with x (a conv, or the stored output z) plus one constant offset (bias
   * terms and the constant passes' output, the same for every sample: ORT folds it at session start).
   */
  private offsets(varyingPart: Map<number, string | undefined>): Map<number, string | undefined> {
    const { w, layer, c, cout } = this;
    const K = layer.kernel.data;
    const offsets = new Map<number, string | undefined>();
    for (const g of this.groups) {
      const vb = this.blocks.filter((b) => b.group === g && !CONSTANT.includes(b.input));
      const ownPass = vb.length === 1 && vb[0].input === 'id' && vb[0].fwd.every((v, i) => v === K[i]);
      const bg = this.biasOf(g);
      let offset: string | undefined;
      if (ownPass) {
        // z_g = z - bias + bias_g: the layer's own output, no extra conv.
        varyingPart.set(g, c.z);
        const delta = new Float32Array(cout);
        let any = false;
        for (let i = 0; i < cout; i++) {
          delta[i] = (bg?.[i] ?? 0) - (layer.bias?.[i] ?? 0);
          if (delta[i] !== 0) any = true;
        }
        if (any) offset = w.floats('dbias', delta, this.bcast(delta));
      } else if (vb.length) {
        // The bias goes into the conv itself (convParts), with the stabilizer where it is known to be +eps.
        this.convGroups.push(g);
      } else if (bg) offset = w.floats('bias_g', bg, this.bcast(bg));
      for (const b of this.blocks.filter((q) => q.group === g && CONSTANT.includes(q.input))) {
        const y = linearForward(w, layer, c.geo, this.constInput(b.input), this.kernelAt(b.fwd));
        offset = offset ? w.o('Add', [offset, y], {}, 'const_z') : y;
      }
      offsets.set(g, offset);
    }
    return offsets;
  }

  /** The modified forward passes of the conv groups: one stacked op on Dense and ungrouped Conv. */
  private convParts(varyingPart: Map<number, string | undefined>): void {
    const { w, layer, c, cout, convGroups } = this;
    if (!convGroups.length) return;
    const ins = this.varying.map((m) => this.inputs.get(m)!);
    const biases = convGroups.map((g) => this.convBias(g));
    if (layer.stackable) {
      const k = stack(layer, this.blocks, this.varying, convGroups, 'fwd');
      let bias: string | undefined;
      if (biases.some((b) => b)) {
        const cat = new Float32Array(convGroups.length * cout);
        biases.forEach((b, i) => b && cat.set(b, i * cout));
        bias = w.floats('bias_fwd', cat, [cat.length]);
      }
      const y = linearForward(w, layer, c.geo, ins.length === 1 ? ins[0] : w.o('Concat', ins, { axis: 1 }), w.floats('k_fwd', k.data, k.dims), bias);
      const parts = convGroups.length === 1 ? [y] : w.op('Split', [y, w.ints('split', convGroups.map(() => cout))], { axis: 1 }, 'zsplit', convGroups.length);
      convGroups.forEach((g, i) => varyingPart.set(g, parts[i]));
      return;
    }
    convGroups.forEach((g, gi) => {
      let acc: string | undefined;
      for (const b of this.blocks.filter((q) => q.group === g && !CONSTANT.includes(q.input))) {
        const bias = !acc && biases[gi] ? w.floats('bias_g', biases[gi]!, [cout]) : undefined;
        const y = linearForward(w, layer, c.geo, this.inputs.get(b.input)!, this.kernelAt(b.fwd), bias);
        acc = acc ? w.o('Add', [acc, y]) : y;
      }
      varyingPart.set(g, acc);
    });
  }

  /** d_g = mask_g R / stab(z_g) for each group that carries relevance. */
  denominators(): string[] {
    const { w, c } = this;
    const varyingPart = new Map<number, string | undefined>();
    const offsets = this.offsets(varyingPart);
    this.convParts(varyingPart);
    return this.groups.map((g) => {
      const v = varyingPart.get(g);
      const o = offsets.get(g);
      const zg = v && o ? w.o('Add', [v, o], {}, 'z_g') : v ?? w.o('Add', [w.o('Mul', [c.z, w.scalar(0)], {}, 'z_zero'), o ?? w.scalar(0)], {}, 'z_g');
      const spec = this.rule.groups[g];
      if (this.positiveGroup(g)) {
        const e = w.scalar(spec.stabilizer.epsilon);
        // z_g + eps: in the conv's bias for a conv group, else added here.
        const zpe = this.convGroups.includes(g) ? zg : w.o('Add', [zg, e]);
        return w.o('Div', [c.r, w.o('Max', [zpe, e], {}, 'zpe_floor')], {}, 'd');
      }
      const on = () => w.o(spec.mask === 'pos' ? 'Greater' : 'Less', [c.z, w.scalar(0)], {}, 'mask');
      if (spec.mask && spec.maskSign && !spec.stabilizer.rms) {
        // Where the mask is on, the denominator has the mask's sign (rules.ts).
        const e = spec.mask === 'pos' ? spec.stabilizer.epsilon : -spec.stabilizer.epsilon;
        return w.o('Where', [on(), w.o('Div', [c.r, e === 0 ? zg : w.o('Add', [zg, w.scalar(e)])]), w.scalar(0)], {}, 'd');
      }
      const d = w.o('Div', [c.r, stabilizeOnnx(w, zg, spec.stabilizer, this.rank)], {}, 'd');
      return spec.mask ? w.o('Where', [on(), d, w.scalar(0)], {}, 'd_masked') : d;
    });
  }

  /** R_in = sum_a in_a(x) * J^T_{K_a} [d_g]_g: one stacked VJP on Dense and ungrouped Conv. */
  reduce(ds: string[]): string {
    const { w, layer, c, groups } = this;
    let out: string | undefined;
    const addTerm = (t: string) => (out = out ? w.o('Add', [out, t]) : t);
    if (layer.stackable) {
      const [, cin] = layer.view;
      const slots: (InputMod | 'const')[] = [...this.varying, ...(this.constants.length ? ['const' as const] : [])];
      const k = stack(layer, this.blocks, slots, groups, 'bwd', this.rule);
      const v = linearVjp(w, layer, c.geo, ds.length === 1 ? ds[0] : w.o('Concat', ds, { axis: 1 }), k);
      const parts = slots.length === 1 ? [v] : w.op('Split', [v, w.ints('split', slots.map(() => cin))], { axis: 1 }, 'vsplit', slots.length);
      slots.forEach((m, i) => addTerm(m === 'const' ? parts[i] : w.o('Mul', [this.inputs.get(m)!, parts[i]], {}, 'r_term')));
    } else {
      for (const m of [...this.varying, ...this.constants]) {
        let acc: string | undefined;
        groups.forEach((g, gi) => {
          const b = this.blocks.find((q) => q.input === m && q.group === g);
          if (!b) return;
          const v = linearVjp(w, layer, c.geo, ds[gi], onnxKernel(layer, b.bwd));
          acc = acc ? w.o('Add', [acc, v]) : v;
        });
        if (!acc) continue;
        addTerm(w.o('Mul', [m === 'ones' ? w.scalar(1) : CONSTANT.includes(m) ? this.constInput(m) : this.inputs.get(m)!, acc], {}, 'r_term'));
      }
    }
    return out ?? w.o('Mul', [c.x, w.scalar(0)], {}, 'r_zero');
  }
}

/**
 * Stacked ONNX kernel [G*Cout, A*Cin, ...k] (Dense: [A*in, G*out]) from the blocks; the 'const' slot (backward
 * only) sums the constant-input blocks scaled by their value per input channel, since J^T(v d) = v J^T d.
 */
function stack(layer: LinearLayer, blocks: Block[], slots: (InputMod | 'const')[], groups: number[], which: 'fwd' | 'bwd', rule?: LinearRule): { data: Float32Array; dims: number[] } {
  const [s, cin, cout] = layer.view;
  const A = slots.length;
  const G = groups.length;
  const out = new Float32Array(s * A * cin * G * cout);
  for (const b of blocks) {
    const gi = groups.indexOf(b.group);
    if (gi < 0) continue;
    let a = slots.indexOf(b.input);
    let scale: Float32Array | undefined;
    if (a < 0 && CONSTANT.includes(b.input)) {
      a = slots.indexOf('const');
      if (a >= 0) scale = channelValues(rule!, b.input, cin, layer.node.name);
    }
    if (a < 0) continue;
    const src = b[which];
    for (let si = 0; si < s; si++) {
      for (let ci = 0; ci < cin; ci++) {
        const v = scale ? scale[ci] : 1;
        const srcOff = (si * cin + ci) * cout;
        const dstOff = ((si * A + a) * cin + ci) * G * cout + gi * cout;
        for (let f = 0; f < cout; f++) out[dstOff + f] += v * src[srcOff + f];
      }
    }
  }
  return onnxKernel(layer, out, A * cin, G * cout);
}

/** The value of a constant input per input channel (ones, or the ZBox bounds). */
function channelValues(rule: LinearRule, m: InputMod, cin: number, layer: string): Float32Array {
  const out = new Float32Array(cin);
  const b = rule.bounds;
  const v = m === 'ones' ? 1 : b ? (m === 'low' ? b.low : b.high) : m === 'low' ? -1 : 1;
  if (Array.isArray(v)) {
    if (v.length !== cin) refuse(layer, `bounds have ${v.length} values but layer ${layer} has ${cin} input channels`);
    out.set(v);
  } else out.fill(v);
  return out;
}

/** One sample of a constant input, channels-first [Cin, ...spatial]. */
function constField(rule: LinearRule, m: InputMod, cin: number, spatial: number[], layer: string): Float32Array {
  const vals = channelValues(rule, m, cin, layer);
  const per = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(cin * per);
  for (let ci = 0; ci < cin; ci++) out.fill(vals[ci], ci * per, (ci + 1) * per);
  return out;
}
