/**
 * Relevance through a Recurrent layer (model/kinds/recurrent.ts), following Arras et al. (2017, 2019):
 *   - every linear map (input and recurrent kernels) by the epsilon rule;
 *   - multiplicative gates get nothing: the product's relevance goes to its signal (signal-take-all);
 *   - LSTM: h = o act(c) passes all to c; c = f c_prev + i g is split by epsilon with identity weights;
 *     g's relevance goes through act to the candidate's pre-activation x W_c + h U_c + b_c;
 *   - GRU: h = z h_prev + (1 - z) n split the same way; n's pre-activation x W_h + h (r U_h) + b' with r
 *     folded into the recurrent weights (reset_after: b' = b_h + r b_rh; reset_before: (r h) U_h, the
 *     relevance of r h going to h);
 *   - SimpleRNN: epsilon on x W + h U + b; with a leak a (echo state network, h = (1 - a) h_prev + a act(.)),
 *     the sum is first split like the LSTM cell's, by epsilon with identity weights (shares in proportion
 *     to (1 - a) h_prev and a act(.)), a act(.)'s share going through act to the pre-activation.
 * Variants (rules.ts, RecurrentRule): 'conservative' spreads each bias and stabilizer share evenly over the
 * inputs of its sum (Arras's bias_factor = 1), so a layer conserves relevance exactly; 'esn' (SimpleRNN,
 * Landt-Hayen et al. 2022) is z+ inside each step with the biases ignored, and a leaky state's relevance
 * split in the fixed proportions a : (1 - a) between the new activation and the carried state.
 * The zero initial state is a constant, like a bias: it is left out of the inputs a share is spread over,
 * so no relevance is left on it. Works per sample in float64 (the sequences are short and the gates are
 * needed one step at a time); the result is relevance over the layer input, [batch, time, features].
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { ActivationSpec, LayerNodeOf } from '../model/graph.js';
import { HARD_SIGMOID_KERAS2, applyActivation } from '../model/activations.js';
import { directionKeys, gateCount } from '../model/kinds/recurrent.js';
import { LensError } from '../errors.js';
import type { RecurrentRule } from './rules.js';
import { type AltCtx, activationFn, altDirection } from './recurrent-alt.js';

type TF = typeof tfTypes;
type Tensor = tfTypes.Tensor;
type Node = LayerNodeOf<'Recurrent'>;
type Vec = Float64Array;

/** One direction's weights in Keras's layout, biases split into input and recurrent parts. */
interface Cell {
  W: Float32Array;
  U: Float32Array;
  bIn: Vec;
  bRec: Vec;
  /** Columns of W and U: gates * units. */
  g: number;
}

/** What the backward pass needs from one step. */
interface Step {
  x: Vec;
  hPrev: Vec;
  /** Pre-activation of the signal's linear map (candidate / SimpleRNN sum), bias included. */
  pre: Vec;
  /** Its bias (GRU reset_after: b_h + r b_rh). */
  bias: Vec;
  /** The two terms of the state sum (LSTM f c_prev, i g; GRU z h_prev, (1 - z) n). */
  keep?: Vec;
  add?: Vec;
  /** GRU reset gate, folded into U_h by row (reset_before) or column (reset_after). */
  r?: Vec;
  h: Vec;
}

interface Ctx {
  rule: RecurrentRule;
  F: number;
  u: number;
  cell: Node['params']['cell'];
  resetAfter: boolean;
  /** Simple cell: the leak a of h = (1 - a) h_prev + a act(.) (1: none). */
  leak: number;
  act: (v: Vec) => Vec;
  gate: (v: Vec) => Vec;
}

/** Relevance at the layer input ([n, T, F]) from the relevance `r` at its output. */
export function recurrentRelevance(tf: TF, node: Node, rule: RecurrentRule, x: Tensor, r: Tensor): Tensor {
  const p = node.params;
  if (node.activation.name !== 'linear') {
    throw new LensError('LRP_UNSUPPORTED', `layer ${node.name}: a recurrent layer with a fused activation has no relevance rule`, { layer: node.name });
  }
  if (rule.variant === 'esn' && p.cell !== 'simple') {
    throw new LensError('LRP_UNSUPPORTED', `layer ${node.name}: rule ${rule.name} is defined for SimpleRNN cells only, this one is ${p.cell}`, { layer: node.name });
  }
  const [n, T, F] = x.shape;
  const u = p.units;
  const xd = x.dataSync();
  const rd = r.dataSync();
  const width = r.shape[r.shape.length - 1];
  const ctx: Ctx = { rule, F, u, cell: p.cell, resetAfter: p.resetAfter, leak: p.leak ?? 1, act: scalarActivation(tf, p.cellActivation), gate: scalarActivation(tf, p.recurrentActivation) };
  // Each direction: whether it runs from the last step, and whether it uses the backward weights.
  const dirs = p.direction === 'bidirectional' ? [{ reversed: false, back: false }, { reversed: true, back: true }] : [{ reversed: p.direction === 'backward', back: false }];
  const cells = dirs.map((d) => cellOf(node, d.back, F));
  // uniform and gradient x input: recurrent-alt.ts; for gradient x input rOut holds gradients at each h.
  const grad = rule.variant === 'gradient';
  const alt: AltCtx | null =
    rule.variant === 'uniform' || rule.variant === 'gradient'
      ? { variant: rule.variant, eps: rule.stabilizer, F, u, cell: p.cell, resetAfter: p.resetAfter, leak: ctx.leak, act: activationFn(p.cellActivation, node.name, ctx.act), gate: activationFn(p.recurrentActivation, node.name, ctx.gate) }
      : null;
  const q = (r: number, y: number) => r / (y + stab(y, rule.stabilizer));
  // Input step of processing step k.
  const inTime = (d: (typeof dirs)[number], k: number): number => (d.reversed ? T - 1 - k : k);
  // One direction's processing step behind sequence output t (kinds/recurrent.ts: ONNX reverse aligns them).
  const seqStep = (t: number): number => (p.direction === 'backward' && !p.processingOrder ? T - 1 - t : t);
  const out = new Float64Array(n * T * F);
  for (let s = 0; s < n; s++) {
    const traces = dirs.map((d, i) => {
      const xs: Vec[] = [];
      for (let k = 0; k < T; k++) {
        const t = inTime(d, k);
        xs.push(Float64Array.from(xd.subarray((s * T + t) * F, (s * T + t + 1) * F)));
      }
      return forwardDirection(ctx, cells[i], xs);
    });
    // Output relevance per direction and processing step.
    const rOut = dirs.map(() => Array.from({ length: T }, () => new Float64Array(u)));
    const outRow = (t: number): Float64Array | null => {
      if (p.returnSequences) return Float64Array.from(rd.subarray((s * T + t) * width, (s * T + t + 1) * width));
      return t === T - 1 ? Float64Array.from(rd.subarray(s * width, (s + 1) * width)) : null;
    };
    for (let t = 0; t < T; t++) {
      const row = outRow(t);
      if (!row) continue;
      if (dirs.length === 1) {
        const k = p.returnSequences ? seqStep(t) : T - 1;
        rOut[0][k].set(grad ? row.map((r, j) => q(r, traces[0][k].h[j])) : row);
        continue;
      }
      // The backward half's sequence is aligned with the input: output t is its processing step T - 1 - t.
      const kf = p.returnSequences ? t : T - 1;
      const kb = p.returnSequences ? T - 1 - t : T - 1;
      const hf = traces[0][kf].h;
      const hb = traces[1][kb].h;
      for (let j = 0; j < u; j++) {
        let [a, b] = [0, 0];
        if (grad) {
          // Gradients of the merged output's R / stab(y) at each half.
          if (p.merge === 'concat') [a, b] = [q(row[j], hf[j]), q(row[u + j], hb[j])];
          else if (p.merge === 'mul') [a, b] = [q(row[j], hf[j] * hb[j]) * hb[j], q(row[j], hf[j] * hb[j]) * hf[j]];
          else if (p.merge === 'ave') [a, b] = [q(row[j], (hf[j] + hb[j]) / 2) / 2, q(row[j], (hf[j] + hb[j]) / 2) / 2];
          else [a, b] = [q(row[j], hf[j] + hb[j]), q(row[j], hf[j] + hb[j])];
        } else if (p.merge === 'concat') [a, b] = [row[j], row[u + j]];
        else if (p.merge === 'mul') [a, b] = [row[j] / 2, row[j] / 2];
        else {
          // sum and ave: shares in proportion to each half's term of the merged output.
          const w = p.merge === 'ave' ? 0.5 : 1;
          [a, b] = split(rule, row[j], w * hf[j], w * hb[j], true);
        }
        rOut[0][kf][j] += a;
        rOut[1][kb][j] += b;
      }
    }
    dirs.forEach((d, i) => {
      const rx = alt ? altDirection(alt, cells[i], traces[i].map((st) => st.x), rOut[i]) : backwardDirection(ctx, cells[i], traces[i], rOut[i]);
      for (let k = 0; k < T; k++) {
        const o = (s * T + inTime(d, k)) * F;
        for (let f = 0; f < F; f++) out[o + f] += rx[k][f];
      }
    });
  }
  return tf.tensor(Float32Array.from(out), [n, T, F]);
}

function cellOf(node: Node, backward: boolean, F: number): Cell {
  const p = node.params;
  const k = directionKeys(backward);
  const g = gateCount(p.cell) * p.units;
  const W = node.weights[k.kernel].data;
  const U = node.weights[k.recurrentKernel].data;
  const bIn = new Float64Array(g);
  const bRec = new Float64Array(g);
  const b = p.useBias ? node.weights[k.bias] : undefined;
  if (b) {
    bIn.set(b.data.subarray(0, g));
    if (b.data.length === 2 * g) bRec.set(b.data.subarray(g, 2 * g));
  }
  if (W.length !== F * g || U.length !== p.units * g) throw new LensError('SHAPE_MISMATCH', `layer ${node.name}: recurrent weights do not match ${F} features`, { layer: node.name });
  return { W, U, bIn, bRec, g };
}

/** x W[:, off:off+m] + h U[:, off:off+m] + b[off:off+m] (h may be null: zero). */
function affine(c: Cell, x: Vec, h: Vec | null, off: number, m: number, bias: Vec): Vec {
  const y = new Float64Array(m);
  for (let j = 0; j < m; j++) y[j] = bias[off + j];
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * c.g + off;
    for (let j = 0; j < m; j++) y[j] += xi * c.W[row + j];
  }
  if (h) addRec(c, h, off, m, y);
  return y;
}

function addRec(c: Cell, h: Vec, off: number, m: number, y: Vec): void {
  for (let k = 0; k < h.length; k++) {
    const hk = h[k];
    if (hk === 0) continue;
    const row = k * c.g + off;
    for (let j = 0; j < m; j++) y[j] += hk * c.U[row + j];
  }
}

function forwardDirection(ctx: Ctx, c: Cell, xs: Vec[]): Step[] {
  const u = ctx.u;
  let h: Vec = new Float64Array(u);
  let cs: Vec = new Float64Array(u);
  const steps: Step[] = [];
  for (const x of xs) {
    const hPrev = h;
    if (ctx.cell === 'simple') {
      const pre = affine(c, x, hPrev, 0, u, c.bIn);
      h = ctx.act(pre);
      if (ctx.leak === 1) {
        steps.push({ x, hPrev, pre, bias: c.bIn, h });
        continue;
      }
      const a = ctx.leak;
      const keep = hPrev.map((v) => (1 - a) * v);
      const add = h.map((v) => a * v);
      h = sum(keep, add);
      steps.push({ x, hPrev, pre, bias: c.bIn, keep, add, h });
    } else if (ctx.cell === 'lstm') {
      const z = affine(c, x, hPrev, 0, 4 * u, c.bIn);
      const ig = ctx.gate(z.subarray(0, u));
      const fg = ctx.gate(z.subarray(u, 2 * u));
      const g = ctx.act(z.subarray(2 * u, 3 * u));
      const og = ctx.gate(z.subarray(3 * u));
      const keep = new Float64Array(u);
      const add = new Float64Array(u);
      const cNew = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        keep[j] = fg[j] * cs[j];
        add[j] = ig[j] * g[j];
        cNew[j] = keep[j] + add[j];
      }
      const ac = ctx.act(cNew);
      h = new Float64Array(u);
      for (let j = 0; j < u; j++) h[j] = og[j] * ac[j];
      cs = cNew;
      steps.push({ x, hPrev, pre: z.slice(2 * u, 3 * u), bias: c.bIn.slice(2 * u, 3 * u), keep, add, h });
    } else {
      const mx = affine(c, x, null, 0, 3 * u, c.bIn);
      let r: Vec;
      let z: Vec;
      const pre = mx.slice(2 * u);
      const bias = c.bIn.slice(2 * u);
      if (ctx.resetAfter) {
        const mh = affine(c, new Float64Array(0), hPrev, 0, 3 * u, c.bRec);
        z = ctx.gate(sum(mx.subarray(0, u), mh.subarray(0, u)));
        r = ctx.gate(sum(mx.subarray(u, 2 * u), mh.subarray(u, 2 * u)));
        for (let j = 0; j < u; j++) {
          pre[j] += r[j] * mh[2 * u + j];
          bias[j] += r[j] * c.bRec[2 * u + j];
        }
      } else {
        const zr = mx.slice(0, 2 * u);
        addRec(c, hPrev, 0, 2 * u, zr);
        z = ctx.gate(zr.subarray(0, u));
        r = ctx.gate(zr.subarray(u));
        const rh = new Float64Array(u);
        for (let k = 0; k < u; k++) rh[k] = r[k] * hPrev[k];
        addRec(c, rh, 2 * u, u, pre);
      }
      const n = ctx.act(pre);
      const keep = new Float64Array(u);
      const add = new Float64Array(u);
      h = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        keep[j] = z[j] * hPrev[j];
        add[j] = (1 - z[j]) * n[j];
        h[j] = keep[j] + add[j];
      }
      steps.push({ x, hPrev, pre, bias, keep, add, r, h });
    }
  }
  return steps;
}

/** Relevance at each processing step's input, from the relevance at each step's output h. */
function backwardDirection(ctx: Ctx, c: Cell, steps: Step[], rOut: Vec[]): Vec[] {
  const u = ctx.u;
  const rx = steps.map(() => new Float64Array(ctx.F));
  let rh: Vec = new Float64Array(u);
  let rc: Vec = new Float64Array(u);
  for (let k = steps.length - 1; k >= 0; k--) {
    const st = steps[k];
    const first = k === 0;
    const rH = sum(rOut[k], rh);
    const rhPrev = new Float64Array(u);
    let rPre: Vec;
    if (ctx.cell === 'simple' && !st.keep) {
      rPre = rH;
    } else if (ctx.cell === 'simple') {
      // Leaky state: esn splits in the fixed proportions a : (1 - a); the others in proportion to the terms.
      // At the first step the carried term is the zero initial state: esn's (1 - a) share stays there.
      const a = ctx.leak;
      rPre = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        const [rKeep, rAdd] = ctx.rule.variant === 'esn' ? [(1 - a) * rH[j], a * rH[j]] : split(ctx.rule, rH[j], st.keep![j], st.add![j], !first);
        rhPrev[j] += rKeep;
        rPre[j] = rAdd;
      }
    } else {
      // LSTM: h = o act(c) gives all of h's relevance to c; GRU: h itself is the sum.
      const rState = ctx.cell === 'lstm' ? sum(rc, rH) : rH;
      const rKeep = new Float64Array(u);
      rPre = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        // The initial state is constant: at the first step the whole share goes to the new term.
        [rKeep[j], rPre[j]] = split(ctx.rule, rState[j], st.keep![j], st.add![j], !first);
      }
      if (ctx.cell === 'lstm') rc = rKeep;
      else for (let j = 0; j < u; j++) rhPrev[j] += rKeep[j];
    }
    const off = ctx.cell === 'simple' ? 0 : 2 * u;
    linearRelevance(ctx, c, st, off, rPre, rx[k], first ? null : rhPrev);
    rh = rhPrev;
  }
  return rx;
}

/**
 * Relevance of pre = x W + h U' + b (U' = U with r folded in) by epsilon, its conservative variant, or
 * z+ without bias (esn). `rhOut` null: h is the constant initial state, which gets nothing.
 */
function linearRelevance(ctx: Ctx, c: Cell, st: Step, off: number, rPre: Vec, rxOut: Vec, rhOut: Vec | null): void {
  const { u, F } = ctx;
  const eps = ctx.rule.stabilizer;
  const variant = ctx.rule.variant;
  const colScale = ctx.cell === 'gru' && ctx.resetAfter ? st.r! : null;
  const rowScale = ctx.cell === 'gru' && !ctx.resetAfter ? st.r! : null;
  const w = (i: number, j: number): number => c.W[i * c.g + off + j];
  const v = (k: number, j: number): number => c.U[k * c.g + off + j] * (colScale ? colScale[j] : 1) * (rowScale ? rowScale[k] : 1);
  const d = new Float64Array(u);
  if (variant === 'esn') {
    for (let j = 0; j < u; j++) {
      let den = eps;
      for (let i = 0; i < F; i++) den += Math.max(st.x[i] * w(i, j), 0);
      if (rhOut) for (let k = 0; k < u; k++) den += Math.max(st.hPrev[k] * v(k, j), 0);
      d[j] = rPre[j] / den;
    }
    for (let i = 0; i < F; i++) for (let j = 0; j < u; j++) rxOut[i] += Math.max(st.x[i] * w(i, j), 0) * d[j];
    if (rhOut) for (let k = 0; k < u; k++) for (let j = 0; j < u; j++) rhOut[k] += Math.max(st.hPrev[k] * v(k, j), 0) * d[j];
    return;
  }
  let shared = 0;
  const count = F + (rhOut ? u : 0);
  for (let j = 0; j < u; j++) {
    const s = stab(st.pre[j], eps);
    d[j] = rPre[j] / (st.pre[j] + s);
    if (variant === 'conservative') shared += ((st.bias[j] + s) * d[j]) / count;
  }
  for (let i = 0; i < F; i++) {
    let acc = 0;
    for (let j = 0; j < u; j++) acc += w(i, j) * d[j];
    rxOut[i] += st.x[i] * acc + shared;
  }
  if (rhOut) {
    for (let k = 0; k < u; k++) {
      let acc = 0;
      for (let j = 0; j < u; j++) acc += v(k, j) * d[j];
      rhOut[k] += st.hPrev[k] * acc + shared;
    }
  }
}

/** Split r over a sum a + b by epsilon (conservative: the stabilizer's share halved between the terms); `both` false: b is the only input. */
function split(rule: RecurrentRule, r: number, a: number, b: number, both: boolean): [number, number] {
  const z = a + b;
  const s = stab(z, rule.stabilizer);
  const q = r / (z + s);
  if (rule.variant !== 'conservative') return [a * q, b * q];
  return both ? [(a + s / 2) * q, (b + s / 2) * q] : [a * q, (b + s) * q];
}

/** eps * sign(z) with sign(0) = +1, as the engine's stabilizer. */
function stab(z: number, eps: number): number {
  return z >= 0 ? eps : -eps;
}

function sum(a: Vec, b: Vec): Vec {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}

/** An activation on plain values: float64 for the usual cell activations, the shared tf form otherwise. */
function scalarActivation(tf: TF, spec: ActivationSpec): (v: Vec) => Vec {
  const map = (f: (x: number) => number) => (v: Vec) => v.map(f);
  switch (spec.name) {
    case 'linear':
      return (v) => v.slice();
    case 'tanh':
      return map(Math.tanh);
    case 'sigmoid':
      return map((x) => 1 / (1 + Math.exp(-x)));
    case 'hard_sigmoid': {
      const a = spec.alpha ?? HARD_SIGMOID_KERAS2.alpha;
      const b = spec.beta ?? HARD_SIGMOID_KERAS2.beta;
      return map((x) => Math.min(1, Math.max(0, a * x + b)));
    }
    default:
      return (v) => Float64Array.from(tf.tidy(() => applyActivation(tf.tensor1d(Float32Array.from(v)), spec, tf).dataSync()));
  }
}
