/**
 * The symbolic read of an unrolled recurrence (onnx-recurrence.ts): walks the sorted nodes once and
 * writes every value reached from an input step as a linear form over "atoms" (input steps u_t and the
 * loop's tanh outputs h_k). What it cannot read is recorded as blocked, for the fold to name.
 */
import { LensError } from '../../errors.js';
import type { Builder } from './onnx-build.js';
import { evalConst } from './onnx-const.js';
import { Attrs, type ConstValue, type NodeProto, constNumbers } from './onnx-proto.js';
import type { SortedGraph } from './onnx-graph.js';

/** `of @ W * scale`: W [rows, cols] row-major, shared between the steps that use the same initializer. */
export interface Proj {
  of: Lin;
  W: Float64Array;
  rows: number;
  scale: number;
}

/** A [batch, dim] value as sum(coef * atom) + sum(proj) + bias. Atoms: 'u<t>' input step t, 'h<k>' the k-th tanh. */
export interface Lin {
  scal: Map<string, number>;
  proj: Proj[];
  bias: Float64Array | null;
  /** null: a zero whose width nothing has fixed yet (a ConstantOfShape initial state). */
  dim: number | null;
}

/** A symbolic value: a linear form, or an input step still holding its time axis ([batch, 1, F]). */
type Sym = { lin: Lin; step?: undefined } | { step: number; lin?: undefined };

export interface Atom {
  inner: Lin;
  node: string;
}

/** The most unrolled tanh steps read (a loop over more steps is exported as an ONNX RNN op, or not at all). */
const MAX_STEPS = 4096;

class NoFold extends Error {}
function no(why: string): never {
  throw new NoFold(why);
}

const zero = (dim: number | null): Lin => ({ scal: new Map(), proj: [], bias: null, dim });
export const atomsOf = (l: Lin): boolean => l.scal.size > 0 || l.proj.length > 0;

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

/** An all-zero float [batch, width] constant: an initial state. */
function isZeroState(c: ConstValue): boolean {
  return !!c.float && c.dims.length === 2 && c.float.every((v) => v === 0);
}

const stepAtom = (t: number, F: number): Sym => ({ lin: { scal: new Map([[`u${t}`, 1]]), proj: [], bias: null, dim: F } });

/** One pass over the sorted nodes: the loop's nodes (region), its tanh steps (atoms) and the symbolic values. */
export class LoopScan {
  readonly consts = new Map<string, ConstValue>();
  readonly syms = new Map<string, Sym>();
  readonly atoms: Atom[] = [];
  readonly blocked: { node: NodeProto; why: string }[] = [];
  readonly region: NodeProto[] = [];
  private readonly weightCache = new Map<string, { W: Float64Array; rows: number; cols: number }>();
  /** The model input the loop reads, its time steps T and features F. */
  input = '';
  T = 0;
  F = 0;
  first: NodeProto | undefined;

  constructor(
    private readonly sorted: SortedGraph,
    private readonly b: Builder,
    private readonly opset: number,
    private readonly modelInputs: Map<string, (number | null)[]>,
  ) {}

  name(n: NodeProto): string {
    return this.sorted.names.get(n)!;
  }

  constOf(v: string): ConstValue | undefined {
    return this.consts.get(v) ?? this.b.get(v)?.c;
  }

  /** Reads every node in order: input-step reads, zero initial states, constant subgraphs, and the loop's nodes. */
  run(): this {
    for (const n of this.sorted.nodes) this.scanNode(n);
    return this;
  }

  private scanNode(n: NodeProto): void {
    const at = new Attrs(n, this.name(n));
    const outs = n.output ?? [];
    const ins = (n.input ?? []).filter((i) => i);
    const steps = this.stepRead(n, at);
    if (steps) {
      this.first ??= n;
      this.region.push(n);
      steps.forEach((t, i) => this.syms.set(outs[i], n.opType === 'Gather' ? stepAtom(t, this.F) : { step: t }));
      return;
    }
    if (n.opType === 'ConstantOfShape') {
      const v = new Attrs(n, this.name(n)).tensor('value');
      const val = v ? (v.floatData?.[0] ?? (v.rawData && v.rawData.length >= 4 ? new DataView(v.rawData.buffer, v.rawData.byteOffset).getFloat32(0, true) : 0)) : 0;
      if (val === 0 && (v?.dataType ?? 1) === 1) this.syms.set(outs[0], { lin: zero(null) });
      return;
    }
    if (!ins.some((i) => this.syms.has(i))) {
      this.scanConstNode(n, at, ins, outs);
      return;
    }
    try {
      const res = this.evaluate(n, at);
      res.forEach((s, i) => outs[i] && this.syms.set(outs[i], s));
      this.region.push(n);
    } catch (e) {
      if (!(e instanceof NoFold)) throw e;
      this.blocked.push({ node: n, why: e.message });
    }
  }

  /** A constant subgraph (1 - a written as Sub, a transposed weight): evaluated here so the pass can read it. */
  private scanConstNode(n: NodeProto, at: Attrs, ins: string[], outs: string[]): void {
    const vals = (n.input ?? []).map((i) => (i ? this.constOf(i) : undefined));
    if (!(ins.length > 0 && ins.every((i) => this.constOf(i)) && n.opType !== 'Shape')) return;
    let res: ConstValue[] | undefined;
    try {
      res = evalConst(n, vals, this.opset, this.name(n));
    } catch {
      // The translation reports it where it matters.
    }
    res?.forEach((c, i) => outs[i] && this.consts.set(outs[i], c));
    // A constant zero state (torch.zeros with a fixed batch) times a weight: the constant evaluator has no MatMul.
    const zeros = ins.filter((i) => isZeroState(this.constOf(i)!));
    if (!res && zeros.length > 0 && (n.opType === 'MatMul' || n.opType === 'Gemm')) {
      zeros.forEach((i) => this.syms.set(i, { lin: zero(this.constOf(i)!.dims[1]) }));
      try {
        this.evaluate(n, at).forEach((x, i) => outs[i] && this.syms.set(outs[i], x));
        this.region.push(n);
      } catch (e) {
        if (!(e instanceof NoFold)) throw e;
      }
      zeros.forEach((i) => this.syms.delete(i));
    }
  }

  /** A weight matrix [rows, cols] from a constant (transposed when trans), one copy per (constant, trans). */
  private weight(v: string, trans: boolean): { W: Float64Array; rows: number; cols: number } {
    const key = `${v}\u0000${trans}`;
    const hit = this.weightCache.get(key);
    if (hit) return hit;
    const c = this.constOf(v);
    if (!c?.float || c.dims.length !== 2) no(`the weight "${v}" is not a 2-D float constant`);
    const [r0, c0] = c.dims;
    const W = new Float64Array(r0 * c0);
    for (let i = 0; i < r0; i++) for (let j = 0; j < c0; j++) W[trans ? j * r0 + i : i * c0 + j] = c.float[i * c0 + j];
    const out = { W, rows: trans ? c0 : r0, cols: trans ? r0 : c0 };
    this.weightCache.set(key, out);
    return out;
  }

  /** The input step t that node n reads, or undefined when n does not read a model input along time. */
  private stepRead(n: NodeProto, at: Attrs): number[] | undefined {
    const src = n.input?.[0] ?? '';
    const shape = this.modelInputs.get(src);
    if (!shape || shape.length !== 3) return undefined;
    const t = shape[1];
    const f = shape[2];
    if (t === null || f === null) return undefined;
    const steps = this.stepsOf(n, at, t);
    // One loop input: the reads of another input are left to the per-node translation.
    if (!steps || steps.some((s) => s < 0 || s >= t) || (this.input && this.input !== src)) return undefined;
    this.input = src;
    this.T = t;
    this.F = f;
    return steps;
  }

  /** The steps a Gather, Slice or Split along axis 1 of a [batch, t, F] input takes. */
  private stepsOf(n: NodeProto, at: Attrs, t: number): number[] | undefined {
    const opset = this.opset;
    const norm = (i: number) => (i < 0 ? i + t : i);
    if (n.opType === 'Gather' && at.int('axis', 0) === 1) {
      const idx = this.constOf(n.input?.[1] ?? '');
      const v = idx && idx.dims.length === 0 ? constNumbers(idx) : undefined;
      return v ? [norm(v[0])] : undefined;
    }
    if (n.opType === 'Slice') {
      const get = (i: number, attr: string) => (opset >= 10 ? (n.input?.[i] ? constNumbers(this.constOf(n.input[i]) ?? { dims: [], ints: ['?'] }) : undefined) : at.ints(attr));
      const [starts, ends, axes, stepsIn] = [get(1, 'starts'), get(2, 'ends'), get(3, 'axes'), get(4, '')];
      if (starts?.length === 1 && ends?.length === 1 && (axes ?? [0])[0] === 1 && (!stepsIn || stepsIn[0] === 1)) {
        const s = Math.min(Math.max(norm(starts[0]), 0), t);
        const e = Math.min(Math.max(norm(ends[0]), 0), t);
        if (e === s + 1) return [s];
      }
      return undefined;
    }
    if (n.opType === 'Split' && at.int('axis', 0) === 1) {
      const sizes = opset >= 13 ? (n.input?.[1] ? constNumbers(this.constOf(n.input[1]) ?? { dims: [], ints: ['?'] }) : undefined) : at.ints('split');
      const outs = n.output?.length ?? 0;
      if ((sizes ?? new Array(outs).fill(1)).every((x) => x === 1) && outs === t) return [...Array(t).keys()];
    }
    return undefined;
  }

  private linOf(v: string): Lin | undefined {
    const s = this.syms.get(v);
    if (!s) return undefined;
    if (!s.lin) no(`the input step ${s.step} is used with its time axis`);
    return s.lin;
  }

  /** Symbolic evaluation of one node that reads a symbolic value; NoFold when it cannot be read so. */
  private evaluate(n: NodeProto, at: Attrs): Sym[] {
    const ins = n.input ?? [];
    const op = n.opType ?? '';
    const L = (i: number) => this.linOf(ins[i] ?? '');
    const C = (i: number) => this.constOf(ins[i] ?? '');
    switch (op) {
      case 'Identity':
      case 'Dropout':
        return [{ lin: L(0) ?? no('dropout of a constant') }];
      case 'Squeeze':
      case 'Flatten':
      case 'Reshape':
        return [this.dropTimeAxis(op, ins, at)];
      case 'Add':
      case 'Sub': {
        const [a, c, ca, cc] = [L(0), L(1), C(0), C(1)];
        const sign = op === 'Sub' ? -1 : 1;
        if (a && c) return [{ lin: add(a, scale(c, sign)) }];
        if (a && cc) return [{ lin: addConst(a, cc, sign) }];
        if (c && ca) return [{ lin: addConst(scale(c, sign), ca, 1) }];
        return no(`${op} of these operands`);
      }
      case 'Mul':
      case 'Div': {
        const [a, c, ca, cc] = [L(0), L(1), C(0), C(1)];
        if (a && cc) return [{ lin: scale(a, op === 'Mul' ? scalarOf(cc) : 1 / scalarOf(cc)) }];
        if (c && ca && op === 'Mul') return [{ lin: scale(c, scalarOf(ca)) }];
        return no(a && c ? `${op} of two values of the loop (a gated cell?)` : `${op} of these operands`);
      }
      case 'Neg':
        return [{ lin: scale(L(0) ?? no('Neg of a constant'), -1) }];
      case 'MatMul': {
        const a = L(0) ?? no('MatMul with the loop value as its right operand');
        const w = this.weight(ins[1] ?? '', false);
        return [{ lin: matmul(a, w.W, w.rows, w.cols, null) }];
      }
      case 'Gemm':
        return [{ lin: this.gemm(ins, at, () => L(0)) }];
      case 'Tanh':
        return [{ lin: this.tanhStep(n, L(0)) }];
      default:
        return no(`${op} inside the loop (only Gemm, MatMul, Add, Sub, Mul, Div, Neg, Tanh and the reads of the input steps fold)`);
    }
  }

  /** Squeeze / Flatten / Reshape of an input step [batch, 1, F] -> the step's atom [batch, F]. */
  private dropTimeAxis(op: string, ins: string[], at: Attrs): Sym {
    const C = (i: number) => this.constOf(ins[i] ?? '');
    const s = this.syms.get(ins[0] ?? '');
    if (s?.step === undefined) no(`${op} inside the loop`);
    const axes = op === 'Squeeze' ? (this.opset >= 13 ? (C(1) ? constNumbers(C(1)!) : undefined) : at.ints('axes')) : undefined;
    const target = op === 'Reshape' ? constNumbers(C(1) ?? { dims: [], ints: ['?'] }) : undefined;
    const F = this.F;
    const ok =
      (op === 'Squeeze' && axes?.length === 1 && (axes[0] === 1 || axes[0] === -2)) ||
      (op === 'Flatten' && at.int('axis', 1) === 1) ||
      (op === 'Reshape' && target?.length === 2 && (target[1] === F || target[1] === -1) && target[0] !== F);
    if (!ok) no(`${op} of an input step that does not drop its time axis`);
    return stepAtom(s.step, F);
  }

  /** Gemm of a loop value: alpha x @ op(B) + beta C. `left` is read after the transA check, whose message wins. */
  private gemm(ins: string[], at: Attrs, left: () => Lin | undefined): Lin {
    if (at.int('transA', 0) !== 0) no('Gemm with transA');
    const a = left() ?? no('Gemm with the loop value as B');
    const w = this.weight(ins[1] ?? '', at.int('transB', 0) !== 0);
    const alpha = at.float('alpha', 1);
    const beta = at.float('beta', 1);
    const bias = ins[2] ? constVector(this.constOf(ins[2] ?? '') ?? no('a computed Gemm bias'), w.cols).map((v) => v * beta) : null;
    const out = matmul(a, w.W, w.rows, w.cols, null);
    const scaled = alpha === 1 ? out : scale(out, alpha);
    return bias ? add(scaled, { scal: new Map(), proj: [], bias, dim: w.cols }) : scaled;
  }

  /** A tanh of the loop: a new atom h_k, whose pre-activation the fold checks. */
  private tanhStep(n: NodeProto, a0: Lin | undefined): Lin {
    const a = a0 ?? no('Tanh of a constant');
    if (!atomsOf(a)) no('Tanh of the initial state alone');
    // The symbolic forms grow with the steps (a leaky state sums them all): bound the work a file can ask for.
    if (this.atoms.length >= MAX_STEPS) throw new LensError('SHAPE_LIMIT', `node ${this.name(n)}: more than ${MAX_STEPS} unrolled steps`, { file: this.b.file, layer: this.name(n) });
    this.atoms.push({ inner: a, node: this.name(n) });
    return { scal: new Map([[`h${this.atoms.length - 1}`, 1]]), proj: [], bias: null, dim: a.dim };
  }
}
