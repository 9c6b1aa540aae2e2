/**
 * Unrolled recurrences -> one Recurrent node. torch.onnx.export of a module with a Python loop over the
 * time steps (an echo state network, a tanh RNN cell in a loop) writes every step as its own nodes:
 * Gather / Slice+Squeeze / Split+Squeeze of the input step, Gemm / MatMul / Add / Mul / Sub / Tanh.
 * This pass reads those nodes symbolically, before the per-node translation: every value reached from
 * an input step is a linear form over "atoms" (input steps u_t and the loop's tanh outputs h_k), which
 * lets the recurrence be checked whatever the arithmetic looks like, and folds
 *   x_t = (1 - a) x_{t-1} + a tanh(u_t W_in + b_in + x_{t-1} W_res + b_res),   x_{-1} = 0
 * into a simple-cell Recurrent node with leak a (a = 1: a plain tanh RNN), plus a Dense node for a linear
 * read-out of the last state. A loop that does not fit (gates, another activation, a state read at an
 * intermediate step, weights that change between steps) is refused by name, never half-folded.
 */
import type { RecurrentParams, WeightTensor } from '../graph.js';
import { LINEAR } from '../graph.js';
import { LensError } from '../../errors.js';
import type { Builder } from './onnx-build.js';
import { irShape } from './onnx-build.js';
import { evalConst } from './onnx-const.js';
import { Attrs, type ConstValue, type NodeProto, constNumbers } from './onnx-proto.js';
import type { SortedGraph } from './onnx-graph.js';

/** `of @ W * scale`: W [rows, cols] row-major, shared between the steps that use the same initializer. */
interface Proj {
  of: Lin;
  W: Float64Array;
  rows: number;
  scale: number;
}

/** A [batch, dim] value as sum(coef * atom) + sum(proj) + bias. Atoms: 'u<t>' input step t, 'h<k>' the k-th tanh. */
interface Lin {
  scal: Map<string, number>;
  proj: Proj[];
  bias: Float64Array | null;
  /** null: a zero whose width nothing has fixed yet (a ConstantOfShape initial state). */
  dim: number | null;
}

/** A symbolic value: a linear form, or an input step still holding its time axis ([batch, 1, F]). */
type Sym = { lin: Lin; step?: undefined } | { step: number; lin?: undefined };

interface Atom {
  inner: Lin;
  node: string;
}

/** What the translation emits for a folded loop. */
export interface FoldedRecurrence {
  input: string;
  params: RecurrentParams;
  weights: Record<string, WeightTensor>;
  /** ONNX values the rest of the graph reads: the last state itself, or a linear read-out of it. */
  outputs: { value: string; node: string; dense?: { kernel: Float64Array; bias: Float64Array | null; units: number } }[];
  onnxNodes: string[];
}

export interface RecurrencePlan {
  skip: Set<NodeProto>;
  /** The node at which the folded layer is emitted (the loop's first node; the model input is defined from the start). */
  starts: Map<NodeProto, FoldedRecurrence>;
}

/** The most unrolled tanh steps read (a loop over more steps is exported as an ONNX RNN op, or not at all). */
const MAX_STEPS = 4096;

class NoFold extends Error {}
function no(why: string): never {
  throw new NoFold(why);
}

const zero = (dim: number | null): Lin => ({ scal: new Map(), proj: [], bias: null, dim });
const atomsOf = (l: Lin): boolean => l.scal.size > 0 || l.proj.length > 0;

function joinDim(a: number | null, b: number | null): number | null {
  if (a !== null && b !== null && a !== b) no(`widths ${a} and ${b} do not match`);
  return a ?? b;
}

function scale(l: Lin, s: number): Lin {
  return {
    scal: new Map([...l.scal].map(([k, v]) => [k, v * s])),
    proj: l.proj.map((p) => ({ ...p, scale: p.scale * s })),
    bias: l.bias ? l.bias.map((v) => v * s) : null,
    dim: l.dim,
  };
}

function add(a: Lin, b: Lin): Lin {
  const dim = joinDim(a.dim, b.dim);
  const scal = new Map(a.scal);
  for (const [k, v] of b.scal) scal.set(k, (scal.get(k) ?? 0) + v);
  let bias = a.bias;
  if (b.bias) bias = bias ? bias.map((v, i) => v + b.bias![i]) : b.bias;
  return { scal, proj: [...a.proj, ...b.proj], bias, dim };
}

/** A constant as a per-unit vector of width dim (a scalar, [dim], [1, dim], or [batch, dim] with equal rows). */
function constVector(c: ConstValue, dim: number | null): Float64Array {
  const v = constNumbers(c);
  if (!v) no('a constant depends on the batch size');
  if (v.length === 1) {
    if (dim === null) no('a scalar is added to a value of unknown width');
    return new Float64Array(dim).fill(v[0]);
  }
  const w = c.dims[c.dims.length - 1];
  if (c.dims.length > 2 || (dim !== null && w !== dim)) no(`a constant of shape [${c.dims}] does not broadcast as a per-unit vector`);
  for (let i = w; i < v.length; i++) if (v[i] !== v[i % w]) no(`a constant of shape [${c.dims}] differs between batch rows`);
  return Float64Array.from(v.slice(0, w));
}

function addConst(l: Lin, c: ConstValue, sign: number): Lin {
  const vec = constVector(c, l.dim).map((v) => v * sign);
  // Adding a constant zero (a zero initial state written as a tensor) adds no bias.
  if (vec.every((v) => v === 0)) return { ...l, dim: joinDim(l.dim, vec.length) };
  return add(l, { scal: new Map(), proj: [], bias: vec, dim: vec.length });
}

/** A scalar multiplier (also a per-unit vector with one value); per-unit factors do not fold. */
function scalarOf(c: ConstValue): number {
  const v = constNumbers(c);
  if (!v || v.length === 0 || v.some((x) => x !== v[0])) no('a per-unit (not scalar) factor');
  return v[0];
}

/** x @ W (+ bias) for a value that is not itself a linear map of something. */
function matmul(a: Lin, W: Float64Array, rows: number, cols: number, bias: Float64Array | null): Lin {
  if (a.proj.length > 0) no('two linear maps in a row inside a step');
  joinDim(a.dim, rows);
  let b: Float64Array | null = null;
  if (a.bias) {
    b = new Float64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) b[j] += a.bias[i] * W[i * cols + j];
  }
  if (bias) b = b ? b.map((v, j) => v + bias[j]) : bias;
  const proj = a.scal.size > 0 ? [{ of: { scal: a.scal, proj: [], bias: null, dim: rows }, W, rows, scale: 1 }] : [];
  return { scal: new Map(), proj, bias: b, dim: cols };
}

/** Looks for an unrolled recurrence; an empty plan when there is none. Throws UNSUPPORTED_OP for one that does not fold. */
export function findRecurrence(sorted: SortedGraph, b: Builder, opset: number, modelInputs: Map<string, (number | null)[]>, graphOutputs: Set<string>): RecurrencePlan {
  const plan: RecurrencePlan = { skip: new Set(), starts: new Map() };
  const consts = new Map<string, ConstValue>();
  const constOf = (v: string): ConstValue | undefined => consts.get(v) ?? b.get(v)?.c;
  const syms = new Map<string, Sym>();
  const atoms: Atom[] = [];
  const blocked: { node: NodeProto; why: string }[] = [];
  const weightCache = new Map<string, { W: Float64Array; rows: number; cols: number }>();
  let input = '';
  let T = 0;
  let F = 0;
  let first: NodeProto | undefined;
  const region: NodeProto[] = [];
  const name = (n: NodeProto) => sorted.names.get(n)!;

  /** A weight matrix [rows, cols] from a constant (transposed when trans), one copy per (constant, trans). */
  const weight = (v: string, trans: boolean): { W: Float64Array; rows: number; cols: number } => {
    const key = `${v}\u0000${trans}`;
    const hit = weightCache.get(key);
    if (hit) return hit;
    const c = constOf(v);
    if (!c?.float || c.dims.length !== 2) no(`the weight "${v}" is not a 2-D float constant`);
    const [r0, c0] = c.dims;
    const W = new Float64Array(r0 * c0);
    for (let i = 0; i < r0; i++) for (let j = 0; j < c0; j++) W[trans ? j * r0 + i : i * c0 + j] = c.float[i * c0 + j];
    const out = { W, rows: trans ? c0 : r0, cols: trans ? r0 : c0 };
    weightCache.set(key, out);
    return out;
  };

  /** The input step t that node n reads, or undefined when n does not read a model input along time. */
  const stepRead = (n: NodeProto, at: Attrs): number[] | undefined => {
    const src = n.input?.[0] ?? '';
    const shape = modelInputs.get(src);
    if (!shape || shape.length !== 3) return undefined;
    const t = shape[1];
    const f = shape[2];
    if (t === null || f === null) return undefined;
    const norm = (i: number) => (i < 0 ? i + t : i);
    let steps: number[] | undefined;
    if (n.opType === 'Gather' && at.int('axis', 0) === 1) {
      const idx = constOf(n.input?.[1] ?? '');
      const v = idx && idx.dims.length === 0 ? constNumbers(idx) : undefined;
      if (v) steps = [norm(v[0])];
    } else if (n.opType === 'Slice') {
      const get = (i: number, attr: string) => (opset >= 10 ? (n.input?.[i] ? constNumbers(constOf(n.input[i]) ?? { dims: [], ints: ['?'] }) : undefined) : at.ints(attr));
      const [starts, ends, axes, stepsIn] = [get(1, 'starts'), get(2, 'ends'), get(3, 'axes'), get(4, '')];
      if (starts?.length === 1 && ends?.length === 1 && (axes ?? [0])[0] === 1 && (!stepsIn || stepsIn[0] === 1)) {
        const s = Math.min(Math.max(norm(starts[0]), 0), t);
        const e = Math.min(Math.max(norm(ends[0]), 0), t);
        if (e === s + 1) steps = [s];
      }
    } else if (n.opType === 'Split' && at.int('axis', 0) === 1) {
      const sizes = opset >= 13 ? (n.input?.[1] ? constNumbers(constOf(n.input[1]) ?? { dims: [], ints: ['?'] }) : undefined) : at.ints('split');
      const outs = n.output?.length ?? 0;
      if ((sizes ?? new Array(outs).fill(1)).every((x) => x === 1) && outs === t) steps = [...Array(t).keys()];
    }
    // One loop input: the reads of another input are left to the per-node translation.
    if (!steps || steps.some((s) => s < 0 || s >= t) || (input && input !== src)) return undefined;
    input = src;
    T = t;
    F = f;
    return steps;
  };

  const linOf = (v: string): Lin | undefined => {
    const s = syms.get(v);
    if (!s) return undefined;
    if (!s.lin) no(`the input step ${s.step} is used with its time axis`);
    return s.lin;
  };

  /** Symbolic evaluation of one node that reads a symbolic value; NoFold when it cannot be read so. */
  const evaluate = (n: NodeProto, at: Attrs): Sym[] => {
    const ins = n.input ?? [];
    const op = n.opType ?? '';
    const L = (i: number) => linOf(ins[i] ?? '');
    const C = (i: number) => constOf(ins[i] ?? '');
    const both = (): [Lin | undefined, Lin | undefined, ConstValue | undefined, ConstValue | undefined] => [L(0), L(1), C(0), C(1)];
    switch (op) {
      case 'Identity':
      case 'Dropout':
        return [{ lin: L(0) ?? no('dropout of a constant') }];
      case 'Squeeze':
      case 'Flatten':
      case 'Reshape': {
        const s = syms.get(ins[0] ?? '');
        if (s?.step === undefined) no(`${op} inside the loop`);
        const axes = op === 'Squeeze' ? (opset >= 13 ? (C(1) ? constNumbers(C(1)!) : undefined) : at.ints('axes')) : undefined;
        const target = op === 'Reshape' ? constNumbers(C(1) ?? { dims: [], ints: ['?'] }) : undefined;
        const ok =
          (op === 'Squeeze' && axes?.length === 1 && (axes[0] === 1 || axes[0] === -2)) ||
          (op === 'Flatten' && at.int('axis', 1) === 1) ||
          (op === 'Reshape' && target?.length === 2 && (target[1] === F || target[1] === -1) && target[0] !== F);
        if (!ok) no(`${op} of an input step that does not drop its time axis`);
        return [{ lin: { scal: new Map([[`u${s.step}`, 1]]), proj: [], bias: null, dim: F } }];
      }
      case 'Add':
      case 'Sub': {
        const [a, c, ca, cc] = both();
        const sign = op === 'Sub' ? -1 : 1;
        if (a && c) return [{ lin: add(a, scale(c, sign)) }];
        if (a && cc) return [{ lin: addConst(a, cc, sign) }];
        if (c && ca) return [{ lin: addConst(scale(c, sign), ca, 1) }];
        return no(`${op} of these operands`);
      }
      case 'Mul':
      case 'Div': {
        const [a, c, ca, cc] = both();
        if (a && cc) return [{ lin: scale(a, op === 'Mul' ? scalarOf(cc) : 1 / scalarOf(cc)) }];
        if (c && ca && op === 'Mul') return [{ lin: scale(c, scalarOf(ca)) }];
        return no(a && c ? `${op} of two values of the loop (a gated cell?)` : `${op} of these operands`);
      }
      case 'Neg':
        return [{ lin: scale(L(0) ?? no('Neg of a constant'), -1) }];
      case 'MatMul': {
        const a = L(0) ?? no('MatMul with the loop value as its right operand');
        const w = weight(ins[1] ?? '', false);
        return [{ lin: matmul(a, w.W, w.rows, w.cols, null) }];
      }
      case 'Gemm': {
        if (at.int('transA', 0) !== 0) no('Gemm with transA');
        const a = L(0) ?? no('Gemm with the loop value as B');
        const w = weight(ins[1] ?? '', at.int('transB', 0) !== 0);
        const alpha = at.float('alpha', 1);
        const beta = at.float('beta', 1);
        const bias = ins[2] ? constVector(C(2) ?? no('a computed Gemm bias'), w.cols).map((v) => v * beta) : null;
        const out = matmul(a, w.W, w.rows, w.cols, null);
        const scaled = alpha === 1 ? out : scale(out, alpha);
        return [{ lin: bias ? add(scaled, { scal: new Map(), proj: [], bias, dim: w.cols }) : scaled }];
      }
      case 'Tanh': {
        const a = L(0) ?? no('Tanh of a constant');
        if (!atomsOf(a)) no('Tanh of the initial state alone');
        // The symbolic forms grow with the steps (a leaky state sums them all): bound the work a file can ask for.
        if (atoms.length >= MAX_STEPS) throw new LensError('SHAPE_LIMIT', `node ${name(n)}: more than ${MAX_STEPS} unrolled steps`, { file: b.file, layer: name(n) });
        atoms.push({ inner: a, node: name(n) });
        return [{ lin: { scal: new Map([[`h${atoms.length - 1}`, 1]]), proj: [], bias: null, dim: a.dim } }];
      }
      default:
        return no(`${op} inside the loop (only Gemm, MatMul, Add, Sub, Mul, Div, Neg, Tanh and the reads of the input steps fold)`);
    }
  };

  for (const n of sorted.nodes) {
    const at = new Attrs(n, name(n));
    const outs = n.output ?? [];
    const ins = (n.input ?? []).filter((i) => i);
    const steps = stepRead(n, at);
    if (steps) {
      first ??= n;
      region.push(n);
      steps.forEach((t, i) => syms.set(outs[i], n.opType === 'Gather' ? { lin: { scal: new Map([[`u${t}`, 1]]), proj: [], bias: null, dim: F } } : { step: t }));
      continue;
    }
    if (n.opType === 'ConstantOfShape') {
      const v = new Attrs(n, name(n)).tensor('value');
      const val = v ? (v.floatData?.[0] ?? (v.rawData && v.rawData.length >= 4 ? new DataView(v.rawData.buffer, v.rawData.byteOffset).getFloat32(0, true) : 0)) : 0;
      if (val === 0 && (v?.dataType ?? 1) === 1) syms.set(outs[0], { lin: zero(null) });
      continue;
    }
    if (!ins.some((i) => syms.has(i))) {
      // A constant subgraph (1 - a written as Sub, a transposed weight): evaluated here so the pass can read it.
      const vals = (n.input ?? []).map((i) => (i ? constOf(i) : undefined));
      if (ins.length > 0 && ins.every((i) => constOf(i)) && n.opType !== 'Shape') {
        let res: ConstValue[] | undefined;
        try {
          res = evalConst(n, vals, opset, name(n));
        } catch {
          // The translation reports it where it matters.
        }
        res?.forEach((c, i) => outs[i] && consts.set(outs[i], c));
        // A constant zero state (torch.zeros with a fixed batch) times a weight: the constant evaluator has no MatMul.
        const zeros = ins.filter((i) => isZeroState(constOf(i)!));
        if (!res && zeros.length > 0 && (n.opType === 'MatMul' || n.opType === 'Gemm')) {
          zeros.forEach((i) => syms.set(i, { lin: zero(constOf(i)!.dims[1]) }));
          try {
            evaluate(n, at).forEach((x, i) => outs[i] && syms.set(outs[i], x));
            region.push(n);
          } catch (e) {
            if (!(e instanceof NoFold)) throw e;
          }
          zeros.forEach((i) => syms.delete(i));
        }
      }
      continue;
    }
    try {
      const res = evaluate(n, at);
      res.forEach((s, i) => outs[i] && syms.set(outs[i], s));
      region.push(n);
    } catch (e) {
      if (!(e instanceof NoFold)) throw e;
      blocked.push({ node: n, why: e.message });
    }
  }
  if (!first) return plan;
  const file = b.file;
  const refuse: (node: string, why: string) => never = (node, why) => {
    throw new LensError('UNSUPPORTED_OP', `node ${node}: an unrolled recurrence over the time steps of "${input}" does not fold into a recurrent layer: ${why}`, {
      file,
      layer: node,
      hint: 'only x_t = (1 - a) x_{t-1} + a tanh(u_t W_in + b_in + x_{t-1} W_res + b_res) with the same weights at every step and a linear read-out of the last state fold; export nn.RNN / nn.LSTM / nn.GRU as one module (ONNX RNN / LSTM / GRU op) otherwise',
    });
  };
  if (atoms.length === 0) {
    // No tanh loop: leave the graph to the per-node translation, unless the steps are read by Gather or
    // Split, which it has no handler for anyway: then the loop's first unreadable node says more.
    if (blocked.length > 0 && region.some((n) => n.opType === 'Gather' || n.opType === 'Split')) {
      refuse(name(blocked[0].node), `${blocked[0].node.opType} reads a value of the loop (${blocked[0].why})`);
    }
    return plan;
  }
  const inRegion = new Set(region);
  const why = new Map(blocked.map((x) => [x.node, x.why]));

  // Boundary: values of the loop read outside it (by a node the pass could not read), or graph outputs.
  const uses: { value: string; reader: string; why?: string }[] = [];
  const producer = new Map(region.flatMap((n) => (n.output ?? []).map((o) => [o, name(n)] as const)));
  const zeroReadOutside = new Set<string>();
  for (const n of sorted.nodes) {
    if (inRegion.has(n)) continue;
    for (const i of n.input ?? []) {
      const s = i ? syms.get(i) : undefined;
      if (!s) continue;
      if (!s.lin) refuse(name(n), `${n.opType} reads the input step ${s.step} with its time axis (${why.get(n) ?? ''})`);
      if (atomsOf(s.lin)) uses.push({ value: i, reader: name(n), why: why.get(n) });
      else zeroReadOutside.add(i);
    }
  }
  for (const n of region) {
    for (const o of n.output ?? []) {
      if (o && syms.get(o)?.lin && atomsOf(syms.get(o)!.lin!) && graphOutputs.has(o)) uses.push({ value: o, reader: name(n), why: `it is the graph output "${o}"` });
    }
  }
  for (const n of sorted.nodes) {
    const o = n.output?.[0] ?? '';
    if (n.opType === 'ConstantOfShape' && syms.has(o) && !zeroReadOutside.has(o)) plan.skip.add(n);
  }
  for (const n of region) {
    const o = (n.output ?? []).find((v) => zeroReadOutside.has(v));
    if (o) refuse(name(n), `its value "${o}" (the zero initial state, folded) is also read outside the loop`);
  }
  const K = atoms.length;
  // A node the pass could not read cut the loop short: it is the one to name.
  if (K !== T && blocked.length > 0) refuse(name(blocked[0].node), `${blocked[0].node.opType} reads a value of the loop (${blocked[0].why})`);
  const outs = uses.map((u) => ({ ...u, lin: syms.get(u.value)!.lin! }));
  if (outs.length === 0) refuse(atoms[K - 1].node, 'nothing outside the loop reads its state');
  const stateOf = (l: Lin): Lin | undefined => (l.proj.length === 0 && !l.bias ? l : l.scal.size === 0 && l.proj.every((p) => p.of === l.proj[0].of) ? l.proj[0].of : undefined);
  for (const o of outs) {
    const st = stateOf(o.lin);
    if (!st || !st.scal.get(`h${K - 1}`)) {
      refuse(o.reader, `it reads a value of the loop that is neither its last state nor a linear read-out of it${o.why ? ` (${o.why})` : ''}`);
    }
  }

  // Steps: atom k reads input step t_k; all steps once, in order (forward) or reversed (backward).
  const parts = atoms.map((a, k) => splitInner(a, k, refuse));
  const fwd = parts.every((p, k) => p.t === k);
  const bwd = parts.every((p, k) => p.t === T - 1 - k);
  if (K !== T || (!fwd && !bwd)) refuse(atoms[0].node, `the loop's ${K} tanh steps do not read the ${T} input steps once each, in order`);

  // The state update x_k = alpha x_{k-1} + beta h_k, read off the last state the graph uses.
  const last = stateOf(outs[0].lin) ?? refuse(outs[0].reader, 'it reads a value of the loop that is neither its last state nor a linear map of it');
  const beta = last.scal.get(`h${K - 1}`) ?? 0;
  if (beta === 0) refuse(outs[0].reader, 'it reads a state from before the last step');
  const alpha = K >= 2 ? (last.scal.get(`h${K - 2}`) ?? 0) / beta : 1 - beta;
  const leak = beta;
  if (!(leak > 0 && leak <= 1 + 1e-9) || Math.abs(alpha + beta - 1) > 1e-6) {
    refuse(outs[0].reader, `the state update is x = ${fmt(alpha)} x + ${fmt(beta)} tanh(...): the two factors must add up to 1 (a leak rate 0 < a <= 1)`);
  }
  /** r with l = r x_m (x_m the state after step m), or undefined. */
  const ratio = (l: Lin, m: number): number | undefined => {
    if (l.proj.length > 0 || l.bias) return undefined;
    const r = (l.scal.get(`h${m}`) ?? 0) / beta;
    if (r === 0) return undefined;
    for (const [k, v] of l.scal) {
      const j = Number(k.slice(1));
      if (k[0] !== 'h' || j > m) return undefined;
      if (Math.abs(v - r * beta * alpha ** (m - j)) > 1e-6 * Math.abs(r * beta)) return undefined;
    }
    for (let j = 0; j <= m; j++) if (Math.abs(r * beta * alpha ** (m - j)) > 1e-6 * Math.abs(r * beta) && !l.scal.has(`h${j}`)) return undefined;
    return r;
  };

  // Weights: the same at every step (the recurrent kernel from step 1 on; step 0 reads the zero state).
  const N = last.dim ?? refuse(outs[0].reader, 'the state width is unknown');
  const Win = parts[0].Win;
  const bias = parts[0].bias ?? new Float64Array(N);
  let Wres: Float64Array | null = null;
  parts.forEach((p, k) => {
    const where = atoms[k].node;
    if (!close(p.Win, Win)) refuse(where, `the input weights at step ${k} differ from step 0`);
    if (!close(p.bias ?? new Float64Array(N), bias)) refuse(where, `the bias at step ${k} differs from step 0 (is the recurrent bias added only from step 1 on?)`);
    if (k === 0) {
      if (p.rec.length > 0) refuse(where, 'the first step reads a state');
      return;
    }
    if (p.rec.length === 0) refuse(where, `step ${k} does not read the state`);
    let W: Float64Array | null = null;
    for (const q of p.rec) {
      const r = ratio(q.of, k - 1) ?? refuse(where, `step ${k} reads a value that is not the state after step ${k - 1}`);
      W = accumulate(W, q, r * q.scale);
    }
    if (Wres && !close(W!, Wres)) refuse(where, `the recurrent weights at step ${k} differ from step 1`);
    Wres ??= W;
  });

  const outputs: FoldedRecurrence['outputs'] = [];
  for (const o of outs) {
    if (o.lin.proj.length === 0) {
      if (ratio(o.lin, K - 1) === undefined || Math.abs(ratio(o.lin, K - 1)! - 1) > 1e-6) refuse(o.reader, 'it reads a value of the loop that is not its last state');
      outputs.push({ value: o.value, node: producer.get(o.value) ?? o.value });
      continue;
    }
    if (o.lin.scal.size > 0) refuse(o.reader, 'it reads the last state plus another value of the loop');
    let W: Float64Array | null = null;
    for (const q of o.lin.proj) W = accumulate(W, q, (ratio(q.of, K - 1) ?? refuse(o.reader, 'it reads a linear map of a state from before the last step')) * q.scale);
    const units = o.lin.dim!;
    outputs.push({ value: o.value, node: producer.get(o.value) ?? o.value, dense: { kernel: W!, bias: o.lin.bias, units } });
  }

  const f32 = (a: Float64Array) => Float32Array.from(a);
  const params: RecurrentParams = {
    cell: 'simple', units: N, direction: fwd ? 'forward' : 'backward', merge: null, returnSequences: false, processingOrder: false,
    cellActivation: { name: 'tanh' }, recurrentActivation: { ...LINEAR }, resetAfter: false, useBias: true,
    ...(Math.abs(leak - 1) > 1e-7 ? { leak } : {}),
  };
  const weights: Record<string, WeightTensor> = {
    kernel: { shape: [F, N], data: f32(Win) },
    recurrentKernel: { shape: [N, N], data: f32(Wres ?? new Float64Array(N * N)) },
    bias: { shape: [N], data: f32(bias) },
  };
  for (const n of region) plan.skip.add(n);
  plan.starts.set(region[0], { input, params, weights, outputs, onnxNodes: region.map(name) });
  return plan;
}

/** An all-zero float [batch, width] constant: an initial state. */
function isZeroState(c: ConstValue): boolean {
  return !!c.float && c.dims.length === 2 && c.float.every((v) => v === 0);
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

function close(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  let m = 0;
  for (const v of b) m = Math.max(m, Math.abs(v));
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1e-6 * m + 1e-30) return false;
  return true;
}

function accumulate(acc: Float64Array | null, q: Proj, s: number): Float64Array {
  const out = acc ?? new Float64Array(q.W.length);
  for (let i = 0; i < out.length; i++) out[i] += q.W[i] * s;
  return out;
}

/** A step's pre-activation: u_t W_in + (state projections) + bias. */
function splitInner(a: Atom, k: number, refuse: (node: string, why: string) => never): { t: number; Win: Float64Array; rec: Proj[]; bias: Float64Array | null } {
  const l = a.inner;
  if (l.scal.size > 0) refuse(a.node, `the pre-activation of step ${k} adds an input or a state without a weight matrix`);
  let t = -1;
  let Win: Float64Array | null = null;
  const rec: Proj[] = [];
  for (const q of l.proj) {
    const keys = [...q.of.scal.keys()];
    if (keys.every((x) => x[0] === 'h')) {
      rec.push(q);
      continue;
    }
    if (keys.length !== 1) refuse(a.node, `the pre-activation of step ${k} maps a sum of input steps`);
    const s = Number(keys[0].slice(1));
    if (t >= 0 && s !== t) refuse(a.node, `the pre-activation of step ${k} reads two input steps (${t} and ${s})`);
    t = s;
    Win = accumulate(Win, q, q.of.scal.get(keys[0])! * q.scale);
  }
  if (t < 0 || !Win) refuse(a.node, `the pre-activation of step ${k} reads no input step`);
  return { t, Win, rec, bias: l.bias };
}

/** Emits the folded layer (and read-outs) and binds the ONNX values the rest of the graph reads. */
export function emitRecurrence(b: Builder, f: FoldedRecurrence, where: string): void {
  const x0 = b.act(f.input, where);
  const x = b.arrange(x0, [0, 1, 2], where);
  const N = f.params.units;
  // Named for what it is (the loop's nodes have no common name); the read-outs keep their ONNX node's name.
  const rnn = b.emit('Recurrent', f.params.leak === undefined ? 'rnn' : 'esn', [x.node], f.params, { weights: f.weights, className: 'unrolled recurrence', onnxNodes: f.onnxNodes, outShape: [x.shape[0], N] });
  const state = { node: rnn, shape: [x.shape[0], N], axes: [0, 1] };
  for (const o of f.outputs) {
    if (!o.dense) {
      b.values.set(o.value, { a: state });
      continue;
    }
    const { kernel, bias, units } = o.dense;
    const out = { node: '', shape: [x.shape[0], units], axes: [0, 1] };
    const weights: Record<string, WeightTensor> = { kernel: { shape: [N, units], data: Float32Array.from(kernel) } };
    if (bias) weights.bias = { shape: [units], data: Float32Array.from(bias) };
    out.node = b.emit('Dense', o.node, [rnn], { units, useBias: !!bias }, { className: 'Gemm', weights, onnxNodes: f.onnxNodes, outShape: irShape(out) });
    b.values.set(o.value, { a: out });
  }
}
