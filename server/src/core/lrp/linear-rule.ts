/**
 * A LinearRule applied to one LinearLayer. Two implementations of the same formula (rules.ts):
 *
 * - 'fast': kernels are combined per (input modifier, denominator group) block once per layer and rule;
 *   on Dense and ungrouped Conv the blocks are stacked along the channel axes so that all modified
 *   forward passes are ONE convolution (inputs [in_a(x)] stacked, outputs [z_g] stacked) and all VJPs are
 *   ONE backward convolution (run as a forward conv, linear.ts). Passes on constant inputs (ones, ZBox
 *   bounds) run on one sample and broadcast. A single unmodified pass reuses the stored forward output.
 * - 'grad': Zennit's literal procedure, one forward per pass and tf.grad per pass; the reference the
 *   fast path is tested against.
 *
 * Kernel tensors are created once (kept) and released by dispose().
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { LinearLayer } from './linear.js';
import { type InputMod, type LinearRule, type ParamMod, type Stabilizer, modifyParam } from './rules.js';

type TF = typeof tfTypes;
type Tensor = tfTypes.Tensor;

export type EngineMode = 'fast' | 'grad';

const CONSTANT: InputMod[] = ['ones', 'low', 'high'];

/** z + eps * sign(z) with sign(0) = +1; eps scaled by the per-sample RMS of z when asked. */
export function stabilize(tf: TF, z: Tensor, st: Stabilizer): Tensor {
  const sign = tf.sub(tf.mul(tf.cast(tf.greaterEqual(z, 0), 'float32'), 2), 1);
  if (st.rms) {
    const axes = z.shape.map((_, i) => i).slice(1);
    const rms = tf.sqrt(tf.mean(tf.square(z), axes, true));
    return tf.add(z, tf.mul(sign, tf.mul(rms, st.epsilon)));
  }
  if (st.epsilon === 0) return z;
  return tf.add(z, tf.mul(sign, st.epsilon));
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
  private readonly tensors: Tensor[] = [];
  private fwdStack?: Tensor;
  private bwdStack?: Tensor;
  private fwdBlocks = new Map<string, Tensor>();
  private bwdBlocks = new Map<string, Tensor>();
  private biasPerGroup: (Tensor | undefined)[] = [];
  private constCache = new Map<string, Tensor[]>();
  private boundCache = new Map<string, Tensor>();
  private readonly blocks: Block[];
  private readonly cin: number;
  private readonly cout: number;

  constructor(tf: TF, layer: LinearLayer, rule: LinearRule) {
    this.layer = layer;
    this.rule = rule;
    this.groups = rule.groups.length;
    const inputs = [...new Set(rule.passes.map((p) => p.input))];
    this.varying = inputs.filter((m) => !CONSTANT.includes(m));
    this.constants = inputs.filter((m) => CONSTANT.includes(m));
    const only = rule.passes.length === 1 ? rule.passes[0] : undefined;
    this.reuseZ = !!only && only.input === 'id' && only.weight.op === 'id' && only.bias.op === 'id' && only.sign === 1;
    const [, cin, cout] = layer.view;
    this.cin = cin;
    this.cout = cout;
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
      const allInputs = [...this.varying, ...this.constants];
      if (this.varying.length) this.fwdStack = this.keep(tf, this.stack(tf, this.varying, 'fwd'));
      this.bwdStack = this.keep(tf, this.stack(tf, allInputs, 'bwd'));
    } else {
      const shape = layer.kernel.shape;
      for (const b of this.blocks) {
        this.fwdBlocks.set(`${b.input}|${b.group}`, this.keep(tf, tf.tensor(b.fwd, shape)));
        this.bwdBlocks.set(`${b.input}|${b.group}`, this.keep(tf, tf.tensor(b.bwd, shape)));
      }
    }
  }

  private keep(tf: TF, t: Tensor): Tensor {
    tf.keep(t);
    this.tensors.push(t);
    return t;
  }

  /** [S, A*Cin, G*Cout] kernel from the blocks (zeros where a block is absent). */
  private stack(tf: TF, inputs: InputMod[], which: 'fwd' | 'bwd'): Tensor {
    const [s, cin, cout] = this.layer.view;
    const A = inputs.length;
    const G = this.groups;
    const out = new Float32Array(s * A * cin * G * cout);
    for (const b of this.blocks) {
      const a = inputs.indexOf(b.input);
      if (a < 0) continue;
      const src = b[which];
      const g = b.group;
      for (let si = 0; si < s; si++) {
        for (let c = 0; c < cin; c++) {
          const srcOff = (si * cin + c) * cout;
          const dstOff = ((si * A + a) * cin + c) * G * cout + g * cout;
          out.set(src.subarray(srcOff, srcOff + cout), dstOff);
        }
      }
    }
    return tf.tensor(out, this.layer.kernelShape(A * cin, G * cout));
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
        const y = tf.tidy(() => this.layer.forward(tf, this.constInput(tf, b.input, x.shape), tf.tensor(b.fwd, shape)));
        acc = acc ? tf.keep(tf.add(acc, y)) : tf.keep(y);
      }
      outs.push(acc ?? tf.keep(tf.zeros([1])));
    }
    this.constCache.set(key, outs);
    return outs;
  }

  /** Relevance at the input. `z`: the layer's stored (pre-activation) output; `r`: relevance at the output. */
  apply(tf: TF, x: Tensor, z: Tensor, r: Tensor, mode: EngineMode = 'fast'): Tensor {
    if (mode === 'grad') return this.applyGrad(tf, x, z, r);
    const consts = this.constants.length ? this.constOutputs(tf, x) : [];
    return tf.tidy(() => {
      const inputs = this.varying.map((m) => this.inputFor(tf, m, x));
      // Denominators z_g.
      let zs: Tensor[];
      if (this.reuseZ) zs = [z];
      else if (this.layer.stackable) {
        const y = inputs.length ? this.layer.forward(tf, inputs.length === 1 ? inputs[0] : tf.concat(inputs, -1), this.fwdStack!) : undefined;
        zs = [];
        const parts = y ? (this.groups === 1 ? [y] : tf.split(y, this.groups, -1)) : [];
        for (let g = 0; g < this.groups; g++) zs.push(parts[g] ?? tf.zeros(z.shape));
      } else {
        zs = [];
        for (let g = 0; g < this.groups; g++) {
          let acc: Tensor | undefined;
          this.varying.forEach((m, a) => {
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
        if (!this.reuseZ) {
          const bias = this.biasPerGroup[g];
          if (bias) zg = tf.add(zg, bias);
          if (consts.length && consts[g].rank > 1) zg = tf.add(zg, consts[g]);
        }
        const spec = this.rule.groups[g];
        let d = tf.div(r, stabilize(tf, zg, spec.stabilizer));
        if (spec.mask === 'pos') d = tf.mul(d, tf.cast(tf.greater(z, 0), 'float32'));
        else if (spec.mask === 'neg') d = tf.mul(d, tf.cast(tf.less(z, 0), 'float32'));
        ds.push(d);
      }
      const all = [...this.varying, ...this.constants];
      let vs: Tensor[];
      if (this.layer.stackable) {
        const dcat = ds.length === 1 ? ds[0] : tf.concat(ds, -1);
        const inShape = [...x.shape.slice(0, -1), all.length * this.cin];
        const v = this.layer.backward(tf, dcat, this.bwdStack!, inShape);
        vs = all.length === 1 ? [v] : tf.split(v, all.length, -1);
      } else {
        vs = all.map((m) => {
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
        const term = m === 'ones' ? vs[a] : tf.mul(a < inputs.length ? inputs[a] : this.constInput(tf, m, x.shape), vs[a]);
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
