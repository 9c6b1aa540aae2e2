/**
 * Alternative rules for recurrent layers, next to Arras's signal-take-all (recurrent.ts):
 *   - uniform (AttnLRP's rule for products, Achtibat et al. 2024): every product of a gate and a signal
 *     gives half its relevance to each factor; sums are split by epsilon, the gates' and the candidate's
 *     pre-activations get epsilon over x W + h U + b. LSTM: h = o act(c) halves between o and c,
 *     f c_prev between f and c_prev, i g between i and g. GRU: z h_prev between z and h_prev, (1 - z) n
 *     between z and n, and the reset product: r (h U_h + b_rh) (reset_after) or r h (reset_before)
 *     between r and its other factor. A SimpleRNN has no products: uniform equals lstm-epsilon there.
 *   - gradient x input: the layer's own Jacobian, R_in = x * J^T (R_out / stab(y)) with y the layer's
 *     output (stab: + eps sign(y)); for a model that ends in the layer, Gradient x Input of it.
 * Per sample, in float64, one direction at a time (recurrent.ts merges the directions).
 */
import type { ActivationSpec } from '../model/graph.js';
import { HARD_SIGMOID_KERAS2 } from '../model/activations.js';
import { LensError } from '../errors.js';

type Vec = Float64Array;

export interface AltCell {
  W: Float32Array;
  U: Float32Array;
  bIn: Vec;
  bRec: Vec;
  /** Columns of W and U: gates * units. */
  g: number;
}

export interface AltCtx {
  variant: 'uniform' | 'gradient';
  eps: number;
  F: number;
  u: number;
  cell: 'simple' | 'lstm' | 'gru';
  resetAfter: boolean;
  leak: number;
  act: Fn;
  gate: Fn;
}

/** An activation with its derivative (from the pre-activation and the value). */
export interface Fn {
  f: (v: Vec) => Vec;
  d: (pre: Vec, out: Vec) => Vec;
}

/** Value and derivative of the cell activations the alternatives support. */
export function activationFn(spec: ActivationSpec, layer: string, f: (v: Vec) => Vec): Fn {
  const by = (g: (pre: number, out: number) => number) => (pre: Vec, out: Vec) => pre.map((p, i) => g(p, out[i]));
  switch (spec.name) {
    case 'linear':
      return { f, d: by(() => 1) };
    case 'tanh':
      return { f, d: by((_, y) => 1 - y * y) };
    case 'sigmoid':
      return { f, d: by((_, y) => y * (1 - y)) };
    case 'relu':
      return { f, d: by((p) => (p > 0 ? 1 : 0)) };
    case 'hard_sigmoid': {
      const a = spec.alpha ?? HARD_SIGMOID_KERAS2.alpha;
      return { f, d: by((_, y) => (y > 0 && y < 1 ? a : 0)) };
    }
    default:
      throw new LensError('LRP_UNSUPPORTED', `layer ${layer}: the gradient of activation ${spec.name} inside a recurrent cell is not implemented (gradient x input)`, { layer });
  }
}

/** What one step keeps for the backward passes. */
interface Tape {
  x: Vec;
  hPrev: Vec;
  cPrev: Vec;
  /** Pre-activations over all gate columns, biases included (GRU reset_after: the candidate's x part + b only). */
  z: Vec;
  /** Gate and candidate values in Keras's order (LSTM i f c o; GRU z r h; simple: the activation). */
  v: Vec;
  /** GRU reset_after: h U + b_rec (all columns). */
  mh?: Vec;
  /** GRU: the candidate's pre-activation. */
  preN?: Vec;
  c?: Vec;
  h: Vec;
}

function matVec(x: Vec, M: Float32Array, cols: number, off: number, m: number, out: Vec): void {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * cols + off;
    for (let j = 0; j < m; j++) out[j] += xi * M[row + j];
  }
}

/** M[:, off:off+m] q: the transposed product (relevance / gradient back to the rows). */
function matTVec(M: Float32Array, cols: number, off: number, m: number, q: Vec, rows: number): Vec {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let acc = 0;
    const row = i * cols + off;
    for (let j = 0; j < m; j++) acc += M[row + j] * q[j];
    out[i] = acc;
  }
  return out;
}

function forward(ctx: AltCtx, c: AltCell, xs: Vec[]): Tape[] {
  const u = ctx.u;
  let h: Vec = new Float64Array(u);
  let cs: Vec = new Float64Array(u);
  const tape: Tape[] = [];
  for (const x of xs) {
    const hPrev = h;
    const cPrev = cs;
    const z = c.bIn.slice();
    matVec(x, c.W, c.g, 0, c.g, z);
    if (ctx.cell === 'simple') {
      matVec(hPrev, c.U, c.g, 0, u, z);
      const v = ctx.act.f(z);
      h = v.map((y, j) => (1 - ctx.leak) * hPrev[j] + ctx.leak * y);
      tape.push({ x, hPrev, cPrev, z, v, h });
    } else if (ctx.cell === 'lstm') {
      matVec(hPrev, c.U, c.g, 0, c.g, z);
      const v = new Float64Array(4 * u);
      v.set(ctx.gate.f(z.subarray(0, 2 * u)), 0);
      v.set(ctx.act.f(z.subarray(2 * u, 3 * u)), 2 * u);
      v.set(ctx.gate.f(z.subarray(3 * u)), 3 * u);
      cs = new Float64Array(u);
      for (let j = 0; j < u; j++) cs[j] = v[u + j] * cPrev[j] + v[j] * v[2 * u + j];
      const ac = ctx.act.f(cs);
      h = ac.map((y, j) => v[3 * u + j] * y);
      tape.push({ x, hPrev, cPrev, z, v, c: cs, h });
    } else {
      let mh: Vec | undefined;
      const preN = z.slice(2 * u);
      if (ctx.resetAfter) {
        mh = c.bRec.slice();
        matVec(hPrev, c.U, c.g, 0, c.g, mh);
        for (let j = 0; j < 2 * u; j++) z[j] += mh[j];
      } else {
        matVec(hPrev, c.U, c.g, 0, 2 * u, z);
      }
      const v = new Float64Array(3 * u);
      v.set(ctx.gate.f(z.subarray(0, 2 * u)), 0);
      if (mh) for (let j = 0; j < u; j++) preN[j] += v[u + j] * mh[2 * u + j];
      else {
        const rh = hPrev.map((y, k) => v[u + k] * y);
        const add = new Float64Array(u);
        matVec(rh, c.U, c.g, 2 * u, u, add);
        for (let j = 0; j < u; j++) preN[j] += add[j];
      }
      v.set(ctx.act.f(preN), 2 * u);
      h = new Float64Array(u);
      for (let j = 0; j < u; j++) h[j] = v[j] * hPrev[j] + (1 - v[j]) * v[2 * u + j];
      tape.push({ x, hPrev, cPrev, z, v, mh, preN, h });
    }
  }
  return tape;
}

const stab = (z: number, eps: number) => (z >= 0 ? eps : -eps);

/** Epsilon split of r over a sum of two terms (identity weights). */
function split2(r: number, a: number, b: number, eps: number): [number, number] {
  const q = r / (a + b + stab(a + b, eps));
  return [a * q, b * q];
}

/**
 * Relevance (uniform) or x * gradient (gradient) at each processing step's input, from `out`: the
 * relevance at each step's h (uniform) or the gradient of the layer's weighted output at each h (gradient).
 */
export function altDirection(ctx: AltCtx, c: AltCell, xs: Vec[], out: Vec[]): Vec[] {
  const tape = forward(ctx, c, xs);
  return ctx.variant === 'uniform' ? uniform(ctx, c, tape, out) : gradient(ctx, c, tape, out);
}

function uniform(ctx: AltCtx, c: AltCell, tape: Tape[], rOut: Vec[]): Vec[] {
  const { u, F, eps } = ctx;
  const rx = tape.map(() => new Float64Array(F));
  let rh: Vec = new Float64Array(u);
  let rc: Vec = new Float64Array(u);
  for (let k = tape.length - 1; k >= 0; k--) {
    const st = tape[k];
    const rH = rOut[k].map((v, j) => v + rh[j]);
    const rhPrev = new Float64Array(u);
    // Relevance of each pre-activation column (gates and candidate), before epsilon over x W + h U + b.
    const rz = new Float64Array(c.g);
    if (ctx.cell === 'simple') {
      for (let j = 0; j < u; j++) {
        if (ctx.leak === 1) rz[j] = rH[j];
        else [rhPrev[j], rz[j]] = split2(rH[j], (1 - ctx.leak) * st.hPrev[j], ctx.leak * st.v[j], eps);
      }
    } else if (ctx.cell === 'lstm') {
      const rcNew = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        // h = o act(c): half to o, half to c.
        rz[3 * u + j] = rH[j] / 2;
        const rState = rc[j] + rH[j] / 2;
        const [rKeep, rAdd] = split2(rState, st.v[u + j] * st.cPrev[j], st.v[j] * st.v[2 * u + j], eps);
        rz[u + j] = rKeep / 2;
        rcNew[j] = rKeep / 2;
        rz[j] = rAdd / 2;
        rz[2 * u + j] = rAdd / 2;
      }
      rc = rcNew;
    } else {
      const rN = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        const zg = st.v[j];
        const [rKeep, rAdd] = split2(rH[j], zg * st.hPrev[j], (1 - zg) * st.v[2 * u + j], eps);
        rz[j] = rKeep / 2 + rAdd / 2;
        rhPrev[j] += rKeep / 2;
        rN[j] = rAdd / 2;
      }
      // The candidate's pre-activation: x W_h + b_h + (reset product); epsilon over its terms.
      const preN = st.preN!;
      const q = preN.map((p, j) => rN[j] / (p + stab(p, eps)));
      const wx = matTVec(c.W, c.g, 2 * u, u, q, F);
      for (let i = 0; i < F; i++) rx[k][i] += st.x[i] * wx[i];
      const r = st.v.subarray(u, 2 * u);
      if (ctx.resetAfter) {
        // Product r m, m = h U_h + b_rh: half to r, half to m; m by epsilon to h.
        const mh = st.mh!;
        const qm = new Float64Array(u);
        for (let j = 0; j < u; j++) {
          const rp = r[j] * mh[2 * u + j] * q[j];
          rz[u + j] += rp / 2;
          const m = mh[2 * u + j];
          qm[j] = rp / 2 / (m + stab(m, eps));
        }
        const uh = matTVec(c.U, c.g, 2 * u, u, qm, u);
        for (let kk = 0; kk < u; kk++) rhPrev[kk] += st.hPrev[kk] * uh[kk];
      } else {
        // (r h) U_h: the relevance of r h by epsilon, then half to r, half to h.
        const uh = matTVec(c.U, c.g, 2 * u, u, q, u);
        for (let kk = 0; kk < u; kk++) {
          const rrh = r[kk] * st.hPrev[kk] * uh[kk];
          rz[u + kk] += rrh / 2;
          rhPrev[kk] += rrh / 2;
        }
      }
    }
    // Epsilon over x W + h U + b for every column that got relevance (GRU: the gates only; the candidate is done).
    const cols = ctx.cell === 'gru' ? 2 * u : ctx.cell === 'simple' ? u : c.g;
    const z = st.z;
    const q = new Float64Array(cols);
    for (let j = 0; j < cols; j++) q[j] = rz[j] / (z[j] + stab(z[j], eps));
    const wx = matTVec(c.W, c.g, 0, cols, q, F);
    for (let i = 0; i < F; i++) rx[k][i] += st.x[i] * wx[i];
    const uh = matTVec(c.U, c.g, 0, cols, q, u);
    for (let kk = 0; kk < u; kk++) rhPrev[kk] += st.hPrev[kk] * uh[kk];
    rh = rhPrev;
  }
  return rx;
}

function gradient(ctx: AltCtx, c: AltCell, tape: Tape[], gOut: Vec[]): Vec[] {
  const { u, F } = ctx;
  const rx = tape.map(() => new Float64Array(F));
  let dhNext: Vec = new Float64Array(u);
  let dcNext: Vec = new Float64Array(u);
  for (let k = tape.length - 1; k >= 0; k--) {
    const st = tape[k];
    const dh = gOut[k].map((v, j) => v + dhNext[j]);
    const dz = new Float64Array(c.g);
    const dhPrev = new Float64Array(u);
    if (ctx.cell === 'simple') {
      const da = ctx.act.d(st.z, st.v);
      for (let j = 0; j < u; j++) {
        dz[j] = dh[j] * ctx.leak * da[j];
        dhPrev[j] = dh[j] * (1 - ctx.leak);
      }
      addBack(c, st, dz, u, dhPrev, rx[k]);
    } else if (ctx.cell === 'lstm') {
      const v = st.v;
      const ac = ctx.act.f(st.c!);
      const dac = ctx.act.d(st.c!, ac);
      const dGate = ctx.gate.d(st.z, ctx.gate.f(st.z));
      const dCand = ctx.act.d(st.z.subarray(2 * u, 3 * u), v.subarray(2 * u, 3 * u));
      const dcPrev = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        const dc = dcNext[j] + dh[j] * v[3 * u + j] * dac[j];
        dz[j] = dc * v[2 * u + j] * dGate[j];
        dz[u + j] = dc * st.cPrev[j] * dGate[u + j];
        dz[2 * u + j] = dc * v[j] * dCand[j];
        dz[3 * u + j] = dh[j] * ac[j] * dGate[3 * u + j];
        dcPrev[j] = dc * v[u + j];
      }
      dcNext = dcPrev;
      addBack(c, st, dz, c.g, dhPrev, rx[k]);
    } else {
      const v = st.v;
      const dGate = ctx.gate.d(st.z.subarray(0, 2 * u), v.subarray(0, 2 * u));
      const dN = ctx.act.d(st.preN!, v.subarray(2 * u));
      const dpn = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        dz[j] = dh[j] * (st.hPrev[j] - v[2 * u + j]) * dGate[j];
        dhPrev[j] = dh[j] * v[j];
        dpn[j] = dh[j] * (1 - v[j]) * dN[j];
      }
      // The candidate's x part.
      const wx = matTVec(c.W, c.g, 2 * u, u, dpn, F);
      for (let i = 0; i < F; i++) rx[k][i] += st.x[i] * wx[i];
      if (ctx.resetAfter) {
        const mh = st.mh!;
        const dm = new Float64Array(u);
        for (let j = 0; j < u; j++) {
          dz[u + j] = dpn[j] * mh[2 * u + j] * dGate[u + j];
          dm[j] = dpn[j] * v[u + j];
        }
        const uh = matTVec(c.U, c.g, 2 * u, u, dm, u);
        for (let kk = 0; kk < u; kk++) dhPrev[kk] += uh[kk];
      } else {
        const drh = matTVec(c.U, c.g, 2 * u, u, dpn, u);
        for (let kk = 0; kk < u; kk++) {
          dz[u + kk] = drh[kk] * st.hPrev[kk] * dGate[u + kk];
          dhPrev[kk] += drh[kk] * v[u + kk];
        }
      }
      addBack(c, st, dz, 2 * u, dhPrev, rx[k]);
    }
    dhNext = dhPrev;
  }
  return rx;
}

/** Gradient of the first m columns of x W + h U back to x (as x * grad, added to rxOut) and h (added to dhPrev). */
function addBack(c: AltCell, st: Tape, dz: Vec, m: number, dhPrev: Vec, rxOut: Vec): void {
  const q = dz.subarray(0, m);
  const wx = matTVec(c.W, c.g, 0, m, q, st.x.length);
  for (let i = 0; i < st.x.length; i++) rxOut[i] += st.x[i] * wx[i];
  const uh = matTVec(c.U, c.g, 0, m, q, dhPrev.length);
  for (let kk = 0; kk < dhPrev.length; kk++) dhPrev[kk] += uh[kk];
}
