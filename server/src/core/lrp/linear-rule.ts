/**
 * A LinearRule applied to one LinearLayer. Two implementations of the same formula (rules.ts):
 *
 * - 'fast': kernels are combined per (input modifier, denominator group) block once per layer and rule;
 *   on Dense and ungrouped Conv the blocks are stacked along the channel axes so that all modified
 *   forward passes are ONE convolution (inputs [in_a(x)] stacked, outputs [z_g] stacked) and all VJPs are
 *   ONE backward convolution (run as a forward conv, linear.ts). Further savings, each exact:
 *   the stored forward output is reused where a group's pass is the layer itself (epsilon; ZBox's x pass);
 *   x+ or x- drops out when x has one sign (after ReLU); for x >= 0 the gamma and z+ groups come
 *   from z and one conv with W+; constant-input passes (ones, ZBox bounds) run on one sample and their
 *   VJPs fold into one output slice.
 * - 'grad': Zennit's literal procedure, one forward per pass and tf.grad per pass; the reference the
 *   fast path is tested against.
 *
 * Kernel tensors are created once (kept) and released by dispose().
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { LinearLayer } from './linear.js';
import { LensError } from '../errors.js';
import { type InputMod, type LinearRule, type ParamMod, type Stabilizer, modifyParam } from './rules.js';

type TF = typeof tfTypes;
type Tensor = tfTypes.Tensor;

export type EngineMode = 'fast' | 'grad';

const CONSTANT: InputMod[] = ['ones', 'low', 'high'];

/**
 * [a, b] with k = a w + b w+ entry by entry (k scales w's negative entries by a and its positive ones by
 * a + b), or undefined when k is not of that form.
 */
function splitByPart(k: Float32Array, w: Float32Array): [number, number] | undefined {
  let cp: number | undefined;
  let cn: number | undefined;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i];
    if (wi === 0) {
      if (k[i] !== 0) return undefined;
      continue;
    }
    const r = k[i] / wi;
    if (wi > 0) cp ??= r;
    else cn ??= r;
    const c = wi > 0 ? cp! : cn!;
    if (Math.abs(r - c) > 1e-6 * Math.max(1, Math.abs(c))) return undefined;
  }
  const a = cn ?? 0;
  return [a, (cp ?? 0) - a];
}

/**
 * Whether z_g = a (z - bias) + b conv(x, W+) rounds like the direct conv(x, a W + b W+) (within a factor
 * MAX_ROUNDING_GAIN). With P = conv(x, W+) and N = conv(x, W-), the shortcut errs by about
 * eps (|a| |P + N| + |b| |P|), the direct conv by eps (|a + b| |P| + |a| |N|): the ratio is at most
 * (|a| + |b|) / |a + b|. Alpha-beta's negative share (W- = W - W+: a = 1, b = -1) has no bound: its N would
 * be the difference of two near-equal convs wherever x meets few negative weights, and that error, over a
 * denominator near the 1e-6 stabilizer, moved relevance by up to 1e-3 of its maximum (issue 14).
 * Gamma (a = 1 + g, b = -g: 1 + 2g) and z+ (a = 0: 1) keep the shortcut.
 */
const MAX_ROUNDING_GAIN = 4;
function shortcutIsExact([a, b]: [number, number]): boolean {
  return Math.abs(a) + Math.abs(b) <= MAX_ROUNDING_GAIN * Math.abs(a + b);
}

/**
 * tf.split(v, k, -1). With few channels per part (a one-channel input's stacked VJP: [N, H, W, 2]) wasm's
 * split copies element by element, 18x slower than transposing the parts to the front and cutting
 * contiguous blocks (measured 18 ms vs 1 ms on [16, 89, 180, 2]).
 */
function splitLast(tf: TF, v: Tensor, k: number): Tensor[] {
  const c = v.shape[v.rank - 1] / k;
  if (c > 4) return tf.split(v, k, -1);
  const outShape = [...v.shape.slice(0, -1), c];
  const front = tf.transpose(tf.reshape(v, [-1, k, c]), [1, 0, 2]);
  return tf.split(front, k, 0).map((p) => tf.reshape(p, outShape));
}

/** A slice of a stacked kernel: one input modifier, or all constant inputs folded together. */
type Slot = InputMod | 'const';

/** z + eps * sign(z) with sign(0) = +1; eps scaled by the per-sample RMS of z when asked. */
export function stabilize(tf: TF, z: Tensor, st: Stabilizer): Tensor {
  if (st.rms) {
    const sign = tf.sub(tf.mul(tf.cast(tf.greaterEqual(z, 0), 'float32'), 2), 1);
    const axes = z.shape.map((_, i) => i).slice(1);
    const rms = tf.sqrt(tf.mean(tf.square(z), axes, true));
    return tf.add(z, tf.mul(sign, tf.mul(rms, st.epsilon)));
  }
  if (st.epsilon === 0) return z;
  // z + eps - 2 eps [z < 0]: on wasm, comparisons (greaterEqual) and select are several times slower
  // than step and plain arithmetic (measured: 28 ms vs 12 ms on [16, 89, 180, 16]). step(-z) is 1 exactly
  // where z < 0, so sign(0) = +1 (also for -0).
  return tf.sub(tf.add(z, st.epsilon), tf.mul(tf.step(tf.neg(z)), 2 * st.epsilon));
}

interface Block {
  input: InputMod;
  group: number;
  /** Sum of sign_i * W_i over the block's passes (forward) and of coeff_i * W_i (backward). */
  fwd: Float32Array;
  bwd: Float32Array;
}

export class PreparedLinearRule {
  readonly layer: LinearLayer;
  readonly rule: LinearRule;
  private readonly varying: InputMod[];
  private readonly constants: InputMod[];
  private readonly groups: number;
  /** The rule is one unmodified pass: its denominator is the stored forward output. */
  private readonly reuseZ: boolean;
  /** The only varying block is x with the layer's own kernel (ZBox): its output is z minus the bias. */
  private zMinusBias = false;
  private origBias?: Tensor;
  /**
   * For inputs >= 0 (after ReLU), when every group's kernel is a_g W + b_g W+ and rounds no worse than the
   * direct conv (gamma, z+; not alpha-beta, see shortcutIsExact):
   * z_g = a_g (z - bias) + b_g conv(x, W+) + bias_g, one forward conv with F outputs instead of G*F.
   */
  private nonNeg?: { plus: Tensor; a: number[]; b: number[] };
  private readonly tensors: Tensor[] = [];
  /** Stacked kernels per set of active varying inputs (x+ or x- drop out when x has one sign). */
  private stacks = new Map<string, { fwd?: Tensor; bwd: Tensor }>();
  private fwdBlocks = new Map<string, Tensor>();
  private bwdBlocks = new Map<string, Tensor>();
  private biasPerGroup: (Tensor | undefined)[] = [];
  private constCache = new Map<string, Tensor[]>();
  private boundCache = new Map<string, Tensor>();
  private readonly blocks: Block[];
  private readonly cin: number;

  constructor(tf: TF, layer: LinearLayer, rule: LinearRule) {
    this.layer = layer;
    this.rule = rule;
    this.groups = rule.groups.length;
    const inputs = [...new Set(rule.passes.map((p) => p.input))];
    this.varying = inputs.filter((m) => !CONSTANT.includes(m));
    this.constants = inputs.filter((m) => CONSTANT.includes(m));
    const only = rule.passes.length === 1 ? rule.passes[0] : undefined;
    this.reuseZ = !!only && only.input === 'id' && only.weight.op === 'id' && only.bias.op === 'id' && only.sign === 1;
    const [, cin] = layer.view;
    this.cin = cin;
    const blocks = new Map<string, Block>();
    const modCache = new Map<string, Float32Array>();
    const mod = (m: ParamMod): Float32Array => {
      const key = JSON.stringify(m);
      let v = modCache.get(key);
      if (!v) modCache.set(key, (v = modifyParam(m, layer.kernel.data)));
      return v;
    };
    for (const p of rule.passes) {
      const key = `${p.input}|${p.group}`;
      let b = blocks.get(key);
      if (!b) {
        b = { input: p.input, group: p.group, fwd: new Float32Array(layer.kernel.data.length), bwd: new Float32Array(layer.kernel.data.length) };
        blocks.set(key, b);
      }
      const w = mod(p.weight);
      for (let i = 0; i < w.length; i++) {
        b.fwd[i] += p.sign * w[i];
        b.bwd[i] += p.coeff * w[i];
      }
    }
    this.blocks = [...blocks.values()];
    if (layer.stackable && this.varying.includes('pos') && !this.reuseZ) {
      const coef = this.blocks.filter((k) => k.input === 'pos').length === this.groups ? this.groups : 0;
      const a: number[] = [];
      const b: number[] = [];
      for (let g = 0; g < coef; g++) {
        const k = this.blocks.find((q) => q.input === 'pos' && q.group === g)!;
        const ab = splitByPart(k.fwd, layer.kernel.data);
        if (!ab || !shortcutIsExact(ab)) break;
        a.push(ab[0]);
        b.push(ab[1]);
      }
      if (coef && a.length === this.groups) {
        const plus = modifyParam({ op: 'pos' }, layer.kernel.data);
        this.nonNeg = { plus: this.keep(tf, tf.tensor(plus, layer.kernel.shape)), a, b };
        if (layer.bias && !this.origBias) this.origBias = this.keep(tf, tf.tensor1d(layer.bias));
      }
    }
    if (!this.reuseZ && this.groups === 1 && this.varying.length === 1 && this.varying[0] === 'id') {
      const b = this.blocks.find((k) => k.input === 'id');
      this.zMinusBias = !!b && b.fwd.every((v, i) => v === layer.kernel.data[i]);
      if (this.zMinusBias && layer.bias && !this.origBias) this.origBias = this.keep(tf, tf.tensor1d(layer.bias));
    }
    // Bias per group: sum of sign_i * b_i.
    for (let g = 0; g < this.groups; g++) {
      if (!layer.bias) {
        this.biasPerGroup.push(undefined);
        continue;
      }
      const sum = new Float32Array(layer.bias.length);
      let any = false;
      for (const p of rule.passes) {
        if (p.group !== g || p.bias.op === 'zero') continue;
        const b = modifyParam(p.bias, layer.bias);
        for (let i = 0; i < b.length; i++) sum[i] += p.sign * b[i];
        any = true;
      }
      this.biasPerGroup.push(any ? this.keep(tf, tf.tensor1d(sum)) : undefined);
    }
    if (layer.stackable) {
      this.stacksFor(tf, this.varying);
    } else {
      const shape = layer.kernel.shape;
      for (const b of this.blocks) {
        this.fwdBlocks.set(`${b.input}|${b.group}`, this.keep(tf, tf.tensor(b.fwd, shape)));
        this.bwdBlocks.set(`${b.input}|${b.group}`, this.keep(tf, tf.tidy(() => layer.backwardKernel(tf, tf.tensor(b.bwd, shape)))));
      }
    }
  }

  private stacksFor(tf: TF, active: InputMod[]): { fwd?: Tensor; bwd: Tensor } {
    const key = active.join(',');
    let st = this.stacks.get(key);
    if (!st) {
      const all: Slot[] = [...active, ...(this.constants.length ? ['const' as const] : [])];
      st = {
        fwd: active.length ? this.keep(tf, this.stack(tf, active, 'fwd')) : undefined,
        bwd: this.keep(tf, tf.tidy(() => this.layer.backwardKernel(tf, this.stack(tf, all, 'bwd')))),
      };
      this.stacks.set(key, st);
    }
    return st;
  }

  /** Inputs that can be non-zero: x+ is zero where x <= 0 everywhere, x- where x >= 0 (after ReLU). */
  private activeInputs(tf: TF, x: Tensor): { active: InputMod[]; nonNegative: boolean } {
    if (!this.varying.includes('pos') && !this.varying.includes('neg')) return { active: this.varying, nonNegative: false };
    const [mn, mx] = tf.tidy(() => tf.stack([tf.min(x), tf.max(x)]).dataSync());
    const active = this.varying.filter((m) => !(m === 'neg' && mn >= 0) && !(m === 'pos' && mx <= 0));
    return { active, nonNegative: mn >= 0 };
  }

  private keep(tf: TF, t: Tensor): Tensor {
    tf.keep(t);
    this.tensors.push(t);
    return t;
  }

  /**
   * [S, A*Cin, G*Cout] kernel from the blocks (zeros where a block is absent). The 'const' slot (backward
   * only) sums the constant-input blocks scaled by their input value, since J^T(v d) = v J^T d for an
   * input that is a fixed value per channel: one output slice instead of one per constant.
   */
  private stack(tf: TF, inputs: Slot[], which: 'fwd' | 'bwd'): Tensor {
    const [s, cin, cout] = this.layer.view;
    const A = inputs.length;
    const G = this.groups;
    const out = new Float32Array(s * A * cin * G * cout);
    for (const b of this.blocks) {
      let a = inputs.indexOf(b.input);
      let scale: Float32Array | undefined;
      if (a < 0 && CONSTANT.includes(b.input)) {
        a = inputs.indexOf('const');
        scale = this.channelValues(b.input, cin);
      }
      if (a < 0) continue;
      const src = b[which];
      const g = b.group;
      for (let si = 0; si < s; si++) {
        for (let c = 0; c < cin; c++) {
          const srcOff = (si * cin + c) * cout;
          const dstOff = ((si * A + a) * cin + c) * G * cout + g * cout;
          const v = scale ? scale[c] : 1;
          for (let f = 0; f < cout; f++) out[dstOff + f] += v * src[srcOff + f];
        }
      }
    }
    return tf.tensor(out, this.layer.kernelShape(A * cin, G * cout));
  }

  /** The value of a constant input per input channel. */
  private channelValues(mod: InputMod, cin: number): Float32Array {
    const out = new Float32Array(cin);
    const b = this.rule.bounds;
    const v = mod === 'ones' ? 1 : b ? (mod === 'low' ? b.low : b.high) : mod === 'low' ? -1 : 1;
    if (Array.isArray(v)) {
      if (v.length !== cin) throw new LensError('USAGE', `bounds have ${v.length} values but layer ${this.layer.node.name} has ${cin} input channels`, { layer: this.layer.node.name });
      out.set(v);
    } else out.fill(v);
    return out;
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose();
    this.tensors.length = 0;
    for (const list of this.constCache.values()) for (const t of list) t.dispose();
    this.constCache.clear();
    for (const t of this.boundCache.values()) t.dispose();
    this.boundCache.clear();
  }

  /** A constant input (ones, low, high) of one sample's shape [1, ...]. */
  private constInput(tf: TF, mod: InputMod, sampleShape: number[]): Tensor {
    const key = `${mod}|${sampleShape.join(',')}`;
    let t = this.boundCache.get(key);
    if (t) return t;
    const shape = [1, ...sampleShape.slice(1)];
    if (mod === 'ones') t = tf.ones(shape);
    else {
      const b = this.rule.bounds;
      const v = b ? (mod === 'low' ? b.low : b.high) : mod === 'low' ? -1 : 1;
      t = Array.isArray(v) ? tf.mul(tf.ones(shape), tf.tensor1d(v)) : tf.fill(shape, v);
    }
    t = tf.keep(t);
    this.boundCache.set(key, t);
    return t;
  }

  private inputFor(tf: TF, mod: InputMod, x: Tensor): Tensor {
    switch (mod) {
      case 'id':
        return x;
      case 'pos':
        return tf.relu(x);
      case 'neg':
        return tf.neg(tf.relu(tf.neg(x)));
      default:
        return this.constInput(tf, mod, x.shape);
    }
  }

  /** Forward contributions of the constant-input blocks, per group, for one sample (broadcast over the batch). */
  private constOutputs(tf: TF, x: Tensor): Tensor[] {
    const key = x.shape.slice(1).join(',');
    let outs = this.constCache.get(key);
    if (outs) return outs;
    outs = [];
    const shape = this.layer.kernel.shape;
    for (let g = 0; g < this.groups; g++) {
      let acc: Tensor | undefined;
      for (const b of this.blocks) {
        if (b.group !== g || !CONSTANT.includes(b.input)) continue;
        const prev = acc;
        acc = tf.keep(tf.tidy(() => {
          const y = this.layer.forward(tf, this.constInput(tf, b.input, x.shape), tf.tensor(b.fwd, shape));
          return prev ? tf.add(prev, y) : y;
        }));
        prev?.dispose();
      }
      outs.push(acc ?? tf.keep(tf.zeros([1])));
    }
    this.constCache.set(key, outs);
    return outs;
  }

  /** bias_0 - bias + the constant passes' output, for one sample's shape (kept until dispose). */
  private zBoxOffset(tf: TF, x: Tensor, consts: Tensor[]): Tensor {
    const key = `offset|${x.shape.slice(1).join(',')}`;
    let t = this.boundCache.get(key);
    if (t) return t;
    t = tf.keep(tf.tidy(() => {
      let o: Tensor = tf.scalar(0);
      if (this.biasPerGroup[0]) o = tf.add(o, this.biasPerGroup[0]);
      if (this.origBias) o = tf.sub(o, this.origBias);
      if (consts.length && consts[0].rank > 1) o = tf.add(consts[0], o);
      return o;
    }));
    this.boundCache.set(key, t);
    return t;
  }

  /** Relevance at the input. `z`: the layer's stored (pre-activation) output; `r`: relevance at the output. */
  apply(tf: TF, x: Tensor, z: Tensor, r: Tensor, mode: EngineMode = 'fast'): Tensor {
    if (mode === 'grad') return this.applyGrad(tf, x, z, r);
    const consts = this.constants.length ? this.constOutputs(tf, x) : [];
    return tf.tidy(() => {
      const { active, nonNegative } = this.activeInputs(tf, x);
      const inputs = active.map((m) => (m === 'pos' && nonNegative ? x : this.inputFor(tf, m, x)));
      const st = this.layer.stackable ? this.stacksFor(tf, active) : undefined;
      // Denominators z_g.
      let zs: Tensor[];
      if (this.reuseZ) zs = [z];
      else if (this.zMinusBias) zs = [z];
      else if (this.nonNeg && nonNegative && active.length === 1 && active[0] === 'pos') {
        const zc = this.origBias ? tf.sub(z, this.origBias) : z;
        const p = this.layer.forward(tf, x, this.nonNeg.plus);
        const { a, b } = this.nonNeg;
        zs = a.map((ag, g) => tf.add(ag === 1 ? zc : tf.mul(zc, ag), b[g] === 1 ? p : tf.mul(p, b[g])));
      }
      else if (st) {
        const y = st.fwd ? this.layer.forward(tf, inputs.length === 1 ? inputs[0] : tf.concat(inputs, -1), st.fwd) : undefined;
        zs = [];
        const parts = y ? (this.groups === 1 ? [y] : splitLast(tf, y, this.groups)) : [];
        for (let g = 0; g < this.groups; g++) zs.push(parts[g] ?? tf.zeros(z.shape));
      } else {
        zs = [];
        for (let g = 0; g < this.groups; g++) {
          let acc: Tensor | undefined;
          active.forEach((m, a) => {
            const k = this.fwdBlocks.get(`${m}|${g}`);
            if (!k) return;
            const y = this.layer.forward(tf, inputs[a], k);
            acc = acc ? tf.add(acc, y) : y;
          });
          zs.push(acc ?? tf.zeros(z.shape));
        }
      }
      const ds: Tensor[] = [];
      for (let g = 0; g < this.groups; g++) {
        let zg = zs[g];
        if (this.zMinusBias && g === 0) {
          // ZBox: z - bias + bias_g + constant passes = z + one cached offset (one pass instead of three).
          zg = tf.add(z, this.zBoxOffset(tf, x, consts));
        } else if (!this.reuseZ) {
          const bias = this.biasPerGroup[g];
          if (bias) zg = tf.add(zg, bias);
          if (consts.length && consts[g].rank > 1) zg = tf.add(zg, consts[g]);
        }
        const spec = this.rule.groups[g];
        if (spec.mask && spec.maskSign && !spec.stabilizer.rms) {
          // Masked groups: where the mask is on, the denominator has the mask's sign (rules.ts).
          const e = spec.mask === 'pos' ? spec.stabilizer.epsilon : -spec.stabilizer.epsilon;
          const on = spec.mask === 'pos' ? tf.greater(z, 0) : tf.less(z, 0);
          ds.push(tf.where(on, tf.div(r, tf.add(zg, e)), tf.zerosLike(r)));
          continue;
        }
        let d = tf.div(r, stabilize(tf, zg, spec.stabilizer));
        if (spec.mask === 'pos') d = tf.mul(d, tf.cast(tf.greater(z, 0), 'float32'));
        else if (spec.mask === 'neg') d = tf.mul(d, tf.cast(tf.less(z, 0), 'float32'));
        ds.push(d);
      }
      const all: Slot[] = st ? [...active, ...(this.constants.length ? ['const' as const] : [])] : [...active, ...this.constants];
      if (!all.length) return tf.zerosLike(x);
      let vs: Tensor[];
      if (st) {
        const dcat = ds.length === 1 ? ds[0] : tf.concat(ds, -1);
        const inShape = [...x.shape.slice(0, -1), all.length * this.cin];
        const v = this.layer.backward(tf, dcat, st.bwd, inShape);
        vs = all.length === 1 ? [v] : splitLast(tf, v, all.length);
      } else {
        vs = (all as InputMod[]).map((m) => {
          let acc: Tensor | undefined;
          for (let g = 0; g < this.groups; g++) {
            const k = this.bwdBlocks.get(`${m}|${g}`);
            if (!k) continue;
            const v = this.layer.backward(tf, ds[g], k, x.shape);
            acc = acc ? tf.add(acc, v) : v;
          }
          return acc ?? tf.zeros(x.shape);
        });
      }
      let out: Tensor | undefined;
      all.forEach((m, a) => {
        const term = m === 'ones' || m === 'const' ? vs[a] : tf.mul(a < inputs.length ? inputs[a] : this.constInput(tf, m, x.shape), vs[a]);
        out = out ? tf.add(out, term) : term;
      });
      return out!;
    });
  }

  /** Zennit's procedure, literally: one modified forward per pass, tf.grad per pass. */
  private applyGrad(tf: TF, x: Tensor, z: Tensor, r: Tensor): Tensor {
    return tf.tidy(() => {
      const shape = this.layer.kernel.shape;
      const outs: Tensor[] = [];
      const ins: Tensor[] = [];
      const kernels: Tensor[] = [];
      for (const p of this.rule.passes) {
        const xi = p.input === 'id' || p.input === 'pos' || p.input === 'neg' ? this.inputFor(tf, p.input, x) : tf.mul(tf.onesLike(x), this.constInput(tf, p.input, x.shape));
        const k = tf.tensor(modifyParam(p.weight, this.layer.kernel.data), shape);
        let o = this.layer.forward(tf, xi, k);
        if (this.layer.bias && p.bias.op !== 'zero') o = tf.add(o, tf.tensor1d(modifyParam(p.bias, this.layer.bias)));
        outs.push(o);
        ins.push(xi);
        kernels.push(k);
      }
      const ds = this.rule.groups.map((spec, g) => {
        let zg: Tensor | undefined;
        this.rule.passes.forEach((p, i) => {
          if (p.group !== g) return;
          const t = p.sign === 1 ? outs[i] : tf.neg(outs[i]);
          zg = zg ? tf.add(zg, t) : t;
        });
        let d = tf.div(r, stabilize(tf, zg!, spec.stabilizer));
        if (spec.mask === 'pos') d = tf.mul(d, tf.cast(tf.greater(z, 0), 'float32'));
        else if (spec.mask === 'neg') d = tf.mul(d, tf.cast(tf.less(z, 0), 'float32'));
        return d;
      });
      let out: Tensor | undefined;
      this.rule.passes.forEach((p, i) => {
        const g = this.layer.backwardGrad(tf, ds[p.group], kernels[i], x.shape);
        const term = tf.mul(tf.mul(ins[i], g), p.coeff);
        out = out ? tf.add(out, term) : term;
      });
      return out!;
    });
  }
}
