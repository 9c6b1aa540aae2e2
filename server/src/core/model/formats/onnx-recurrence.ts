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
import type { NodeProto } from './onnx-proto.js';
import type { SortedGraph } from './onnx-graph.js';
import { type Atom, type Lin, type Proj, LoopScan, atomsOf } from './onnx-recurrence-scan.js';

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

type Refuse = (node: string, why: string) => never;
/** A value of the loop read outside it: by a node the pass could not read (why), or as a graph output. */
interface LoopUse {
  value: string;
  reader: string;
  why?: string;
}
/** The state update x_k = alpha x_{k-1} + beta h_k. */
interface StateUpdate {
  last: Lin;
  alpha: number;
  beta: number;
}
type StepPart = ReturnType<typeof splitInner>;

/** Looks for an unrolled recurrence; an empty plan when there is none. Throws UNSUPPORTED_OP for one that does not fold. */
export function findRecurrence(sorted: SortedGraph, b: Builder, opset: number, modelInputs: Map<string, (number | null)[]>, graphOutputs: Set<string>): RecurrencePlan {
  const plan: RecurrencePlan = { skip: new Set(), starts: new Map() };
  const scan = new LoopScan(sorted, b, opset, modelInputs).run();
  if (!scan.first) return plan;
  const { atoms, blocked, region, T } = scan;
  const refuse = refuser(b.file, scan.input);
  const name = (n: NodeProto) => scan.name(n);
  if (atoms.length === 0) {
    // No tanh loop: leave the graph to the per-node translation, unless the steps are read by Gather or
    // Split, which it has no handler for anyway: then the loop's first unreadable node says more.
    if (blocked.length > 0 && region.some((n) => n.opType === 'Gather' || n.opType === 'Split')) {
      refuse(name(blocked[0].node), `${blocked[0].node.opType} reads a value of the loop (${blocked[0].why})`);
    }
    return plan;
  }
  const { uses, zeroReadOutside } = loopBoundary(sorted, scan, graphOutputs, refuse);
  skipZeroStates(sorted, scan, zeroReadOutside, plan, refuse);
  const K = atoms.length;
  // A node the pass could not read cut the loop short: it is the one to name.
  if (K !== T && blocked.length > 0) refuse(name(blocked[0].node), `${blocked[0].node.opType} reads a value of the loop (${blocked[0].why})`);
  const outs = uses.map((u) => ({ ...u, lin: scan.syms.get(u.value)!.lin! }));
  if (outs.length === 0) refuse(atoms[K - 1].node, 'nothing outside the loop reads its state');
  for (const o of outs) {
    const st = stateOf(o.lin);
    if (!st || !st.scal.get(`h${K - 1}`)) {
      refuse(o.reader, `it reads a value of the loop that is neither its last state nor a linear read-out of it${o.why ? ` (${o.why})` : ''}`);
    }
  }
  const { parts, fwd } = stepOrder(atoms, T, refuse);
  const update = stateUpdate(outs[0], K, refuse);
  const N = update.last.dim ?? refuse(outs[0].reader, 'the state width is unknown');
  const { Win, bias, Wres } = sharedWeights(parts, atoms, N, update, refuse);
  const outputs = readOuts(outs, K, region, name, update, refuse);
  const f32 = (a: Float64Array) => Float32Array.from(a);
  const weights: Record<string, WeightTensor> = {
    kernel: { shape: [scan.F, N], data: f32(Win) },
    recurrentKernel: { shape: [N, N], data: f32(Wres ?? new Float64Array(N * N)) },
    bias: { shape: [N], data: f32(bias) },
  };
  for (const n of region) plan.skip.add(n);
  plan.starts.set(region[0], { input: scan.input, params: simpleCellParams(N, fwd, update.beta), weights, outputs, onnxNodes: region.map(name) });
  return plan;
}

/** The UNSUPPORTED_OP error for a loop that does not fold, naming the node that shows why. */
function refuser(file: string, input: string): Refuse {
  return (node, why) => {
    throw new LensError('UNSUPPORTED_OP', `node ${node}: an unrolled recurrence over the time steps of "${input}" does not fold into a recurrent layer: ${why}`, {
      file,
      layer: node,
      hint: 'only x_t = (1 - a) x_{t-1} + a tanh(u_t W_in + b_in + x_{t-1} W_res + b_res) with the same weights at every step and a linear read-out of the last state fold; export nn.RNN / nn.LSTM / nn.GRU as one module (ONNX RNN / LSTM / GRU op) otherwise',
    });
  };
}

/** Boundary: values of the loop read outside it (by a node the pass could not read), or graph outputs. */
function loopBoundary(sorted: SortedGraph, scan: LoopScan, graphOutputs: Set<string>, refuse: Refuse): { uses: LoopUse[]; zeroReadOutside: Set<string> } {
  const { syms, region } = scan;
  const name = (n: NodeProto) => scan.name(n);
  const inRegion = new Set(region);
  const why = new Map(scan.blocked.map((x) => [x.node, x.why]));
  const uses: LoopUse[] = [];
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
  return { uses, zeroReadOutside };
}

/** The folded zero initial states' ConstantOfShape nodes go; one the loop computes from and others read is refused. */
function skipZeroStates(sorted: SortedGraph, scan: LoopScan, zeroReadOutside: Set<string>, plan: RecurrencePlan, refuse: Refuse): void {
  for (const n of sorted.nodes) {
    const o = n.output?.[0] ?? '';
    if (n.opType === 'ConstantOfShape' && scan.syms.has(o) && !zeroReadOutside.has(o)) plan.skip.add(n);
  }
  for (const n of scan.region) {
    const o = (n.output ?? []).find((v) => zeroReadOutside.has(v));
    if (o) refuse(scan.name(n), `its value "${o}" (the zero initial state, folded) is also read outside the loop`);
  }
}

/** A state x_m (a sum of tanh atoms), or a linear map of one state (its read-out), or undefined. */
function stateOf(l: Lin): Lin | undefined {
  return l.proj.length === 0 && !l.bias ? l : l.scal.size === 0 && l.proj.every((p) => p.of === l.proj[0].of) ? l.proj[0].of : undefined;
}

/** Steps: atom k reads input step t_k; all steps once, in order (forward) or reversed (backward). */
function stepOrder(atoms: Atom[], T: number, refuse: Refuse): { parts: StepPart[]; fwd: boolean } {
  const K = atoms.length;
  const parts = atoms.map((a, k) => splitInner(a, k, refuse));
  const fwd = parts.every((p, k) => p.t === k);
  const bwd = parts.every((p, k) => p.t === T - 1 - k);
  if (K !== T || (!fwd && !bwd)) refuse(atoms[0].node, `the loop's ${K} tanh steps do not read the ${T} input steps once each, in order`);
  return { parts, fwd };
}

/** The state update x_k = alpha x_{k-1} + beta h_k, read off the last state the graph uses. */
function stateUpdate(out: LoopUse & { lin: Lin }, K: number, refuse: Refuse): StateUpdate {
  const last = stateOf(out.lin) ?? refuse(out.reader, 'it reads a value of the loop that is neither its last state nor a linear map of it');
  const beta = last.scal.get(`h${K - 1}`) ?? 0;
  if (beta === 0) refuse(out.reader, 'it reads a state from before the last step');
  const alpha = K >= 2 ? (last.scal.get(`h${K - 2}`) ?? 0) / beta : 1 - beta;
  const leak = beta;
  if (!(leak > 0 && leak <= 1 + 1e-9) || Math.abs(alpha + beta - 1) > 1e-6) {
    refuse(out.reader, `the state update is x = ${fmt(alpha)} x + ${fmt(beta)} tanh(...): the two factors must add up to 1 (a leak rate 0 < a <= 1)`);
  }
  return { last, alpha, beta };
}

/** r with l = r x_m (x_m the state after step m), or undefined. */
function stateRatio(l: Lin, m: number, { alpha, beta }: StateUpdate): number | undefined {
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
}

/** Weights: the same at every step (the recurrent kernel from step 1 on; step 0 reads the zero state). */
function sharedWeights(parts: StepPart[], atoms: Atom[], N: number, update: StateUpdate, refuse: Refuse): { Win: Float64Array; bias: Float64Array; Wres: Float64Array | null } {
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
      const r = stateRatio(q.of, k - 1, update) ?? refuse(where, `step ${k} reads a value that is not the state after step ${k - 1}`);
      W = accumulate(W, q, r * q.scale);
    }
    if (Wres && !close(W!, Wres)) refuse(where, `the recurrent weights at step ${k} differ from step 1`);
    Wres ??= W;
  });
  return { Win, bias, Wres };
}

/** What the rest of the graph reads: the last state itself, or a linear read-out of it (a Dense node). */
function readOuts(outs: (LoopUse & { lin: Lin })[], K: number, region: NodeProto[], name: (n: NodeProto) => string, update: StateUpdate, refuse: Refuse): FoldedRecurrence['outputs'] {
  const producer = new Map(region.flatMap((n) => (n.output ?? []).map((o) => [o, name(n)] as const)));
  const outputs: FoldedRecurrence['outputs'] = [];
  for (const o of outs) {
    if (o.lin.proj.length === 0) {
      if (stateRatio(o.lin, K - 1, update) === undefined || Math.abs(stateRatio(o.lin, K - 1, update)! - 1) > 1e-6) refuse(o.reader, 'it reads a value of the loop that is not its last state');
      outputs.push({ value: o.value, node: producer.get(o.value) ?? o.value });
      continue;
    }
    if (o.lin.scal.size > 0) refuse(o.reader, 'it reads the last state plus another value of the loop');
    let W: Float64Array | null = null;
    for (const q of o.lin.proj) W = accumulate(W, q, (stateRatio(q.of, K - 1, update) ?? refuse(o.reader, 'it reads a linear map of a state from before the last step')) * q.scale);
    const units = o.lin.dim!;
    outputs.push({ value: o.value, node: producer.get(o.value) ?? o.value, dense: { kernel: W!, bias: o.lin.bias, units } });
  }
  return outputs;
}

/** A simple tanh cell; the leak only where it is not 1 (a = 1: a plain tanh RNN). */
function simpleCellParams(N: number, fwd: boolean, leak: number): RecurrentParams {
  return {
    cell: 'simple', units: N, direction: fwd ? 'forward' : 'backward', merge: null, returnSequences: false, processingOrder: false,
    cellActivation: { name: 'tanh' }, recurrentActivation: { ...LINEAR }, resetAfter: false, useBias: true,
    ...(Math.abs(leak - 1) > 1e-7 ? { leak } : {}),
  };
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
