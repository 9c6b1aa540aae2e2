/**
 * A leaky simple recurrent layer (echo state network, SimpleRNN: h_t = (1 - a) h_{t-1} + a act(x_t W + h_{t-1} U + b),
 * a = 1 without leak; act tanh, relu or linear; one direction, forward or backward; the last state or every
 * step's) lowered to ONNX by unrolling its known number of steps: the forward pass one step
 * after another, then the rule's backward pass step by step from the last, exactly as the tfjs engine's
 * float64 loops compute it (core/lrp/recurrent.ts): the leak's sum split by epsilon with identity weights
 * (lstm-epsilon, lstm-conservative) or in the fixed proportions a : (1 - a) (esn); the step's linear map by
 * epsilon (its conservative variant spreading bias and stabilizer shares over the inputs) or z+ without
 * biases (esn); the zero initial state gets nothing. Everything else (LSTM/GRU cells, bidirectional
 * layers, an open length, the uniform and gradient rules) is refused with the reason, so the
 * caller falls back to the tfjs engine and says why. The layer runs in float64 inside the float32 graph
 * (Cast in and out), as the tfjs engine's loops do: near-zero sums make the rules' divisions sensitive
 * (float32 throughout left lstm-conservative up to 9.8e-5 of max |R| off the reference, float64 7e-6).
 */
import type { LayerNode, LayerNodeOf } from '../model/graph.js';
import type { Rule, RecurrentRule } from '../lrp/rules.js';
import type { GraphWriter } from './graph-writer.js';
import { refuse } from './linear-ops.js';

type RecurrentNode = LayerNodeOf<'Recurrent'>;

/** One step's values the backward pass reads. */
interface StepValues {
  x: string;
  /** The carried state; null at the first step (the zero initial state). */
  hPrev: string | null;
  pre: string;
  /** (1 - a) h_{t-1} and a act(pre) of a leaky cell. */
  keep?: string;
  add?: string;
}

export interface RecurrentForward {
  rule: RecurrentRule;
  /** Per processing step (step k reads input time `inTime(k)`). */
  steps: StepValues[];
  T: number;
  /** Runs from the last input step to the first. */
  backward: boolean;
  /** Sequence output: output t holds processing step `outStep(t)`. */
  returnSequences: boolean;
  processingOrder: boolean;
  F: number;
  u: number;
  leak: number;
  W: Float32Array;
  U: Float32Array;
  bias: Float32Array;
}

const DOUBLE = 11, FLOAT = 1;
const ACTIVATIONS = new Map([['tanh', 'Tanh'], ['relu', 'Relu'], ['linear', 'Identity']]);

/** Input time of processing step k. */
function inTime(f: Pick<RecurrentForward, 'T' | 'backward'>, k: number): number {
  return f.backward ? f.T - 1 - k : k;
}

/** Processing step behind sequence output t (Keras go_backwards keeps processing order; ONNX reverse aligns with the input). */
function outStep(f: Pick<RecurrentForward, 'T' | 'backward' | 'processingOrder'>, t: number): number {
  return f.backward && !f.processingOrder ? f.T - 1 - t : t;
}

/** A float32 value as float64. */
function f64(w: GraphWriter, v: string): string {
  return w.o('Cast', [v], { to: DOUBLE }, 'f64');
}

const constants = new WeakMap<GraphWriter, Map<number, string>>();

/** A float64 constant, one per value and graph (the value rounded to float32 first: the writer stores float32). */
function c64(w: GraphWriter, v: number): string {
  let m = constants.get(w);
  if (!m) constants.set(w, (m = new Map()));
  let c = m.get(v);
  if (!c) m.set(v, (c = f64(w, w.scalar(v))));
  return c;
}

/** Why this layer does not lower, or undefined when it does. */
export function recurrentRefusal(node: LayerNode, rule: Rule | undefined, inShape: (number | null)[]): string | undefined {
  if (node.kind !== 'Recurrent') return `${node.kind} ${node.name} is not a recurrent layer`;
  const p = node.params;
  const what = `recurrent layer ${node.name}`;
  if (rule?.type !== 'recurrent') return `${what} has no recurrent rule`;
  if (p.cell !== 'simple') return `${what}: ${p.cell.toUpperCase()} cells are not lowered (only simple and leaky cells)`;
  if (p.direction === 'bidirectional') return `${what}: bidirectional layers are not lowered (one direction only)`;
  if (!ACTIVATIONS.has(p.cellActivation.name)) return `${what}: activation ${p.cellActivation.name} is not lowered (tanh, relu, linear)`;
  if (node.activation.name !== 'linear') return `${what} has a fused activation`;
  if (typeof inShape[1] !== 'number' || typeof inShape[2] !== 'number') return `${what}: an open sequence length is not lowered (the steps are unrolled)`;
  if (rule.variant !== 'epsilon' && rule.variant !== 'conservative' && rule.variant !== 'esn') return `${what}: rule ${rule.name} is not lowered (lstm-epsilon, lstm-conservative and esn are)`;
  return undefined;
}

/** The unrolled forward pass of `node` on `x` (channels-first [N, F, T]); returns the last state [N, u] or every step's [N, u, T]. */
export function recurrentForward(w: GraphWriter, node: LayerNode, rule: Rule | undefined, x: string, inShape: (number | null)[]): { y: string; st: RecurrentForward } {
  const why = recurrentRefusal(node, rule, inShape);
  if (why) refuse(node.name, why);
  const n = node as RecurrentNode;
  const p = n.params;
  const T = inShape[1] as number, F = inShape[2] as number, u = p.units;
  const W = n.weights.kernel.data, U = n.weights.recurrentKernel.data;
  if (W.length !== F * u || U.length !== u * u) refuse(node.name, `recurrent layer ${node.name}: weights do not match ${F} features and ${u} units`);
  // As the engine: the input bias (the first u values; a second row would be a recurrent bias it does not read).
  const bias = new Float32Array(u);
  if (p.useBias && n.weights.bias) bias.set(n.weights.bias.data.subarray(0, u));
  const leak = typeof p.leak === 'number' && p.leak > 0 && p.leak <= 1 ? p.leak : 1;
  const Wc = f64(w, w.floats(`${node.name}.W`, W, [F, u]));
  const Uc = f64(w, w.floats(`${node.name}.U`, U, [u, u]));
  const b = f64(w, w.floats(`${node.name}.b`, bias, [u]));
  const x64 = f64(w, x);
  const a = c64(w, leak);
  const keepShare = w.o('Sub', [c64(w, 1), a], {}, 'one_minus_a');
  const order = { T, backward: p.direction === 'backward', returnSequences: p.returnSequences, processingOrder: p.processingOrder };
  const steps: StepValues[] = [];
  const hs: string[] = [];
  let h: string | null = null;
  for (let k = 0; k < T; k++) {
    const t = inTime(order, k);
    const xt = w.o('Reshape', [w.o('Gather', [x64, w.ints('t', [t])], { axis: 2 }, `${node.name}.g`), w.ints('shape', [0, -1])], {}, `${node.name}.x${t}`);
    let pre = w.o('Add', [w.o('MatMul', [xt, Wc], {}, `${node.name}.xw`), b], {}, `${node.name}.pre`);
    if (h) pre = w.o('Add', [pre, w.o('MatMul', [h, Uc], {}, `${node.name}.hu`)], {}, `${node.name}.pre`);
    const act = w.o(ACTIVATIONS.get(p.cellActivation.name)!, [pre], {}, `${node.name}.act`);
    const step: StepValues = { x: xt, hPrev: h, pre };
    if (leak === 1) h = act;
    else {
      step.add = w.o('Mul', [act, a], {}, `${node.name}.add`);
      if (h) step.keep = w.o('Mul', [h, keepShare], {}, `${node.name}.keep`);
      h = step.keep ? w.o('Add', [step.keep, step.add], {}, `${node.name}.h`) : step.add;
    }
    steps.push(step);
    hs.push(h!);
  }
  const y = p.returnSequences
    ? w.o('Concat', Array.from({ length: T }, (_, t) => w.o('Unsqueeze', [hs[outStep(order, t)], w.ints('axes', [2])])), { axis: 2 }, `${node.name}.seq`)
    : h!;
  return { y: w.o('Cast', [y], { to: FLOAT }, `${node.name}.h32`), st: { rule: rule as RecurrentRule, ...order, steps, F, u, leak, W, U, bias } };
}

/** eps * sign(z), sign(0) = +1 (the engine's stabilizer). */
function stab(w: GraphWriter, z: string, eps: number): string {
  return w.o('Where', [w.o('Less', [z, c64(w, 0)]), c64(w, -eps), c64(w, eps)], {}, 'stab');
}

function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** Relevance at the layer input (channels-first [N, F, T]) from `r` at its output ([N, u], or [N, u, T] for a sequence). */
export function recurrentRelevanceOnnx(w: GraphWriter, name: string, f: RecurrentForward): (r: string) => string {
  return (r32) => {
    const { rule, steps, F, u, leak } = f;
    const eps = rule.stabilizer;
    const WT = f64(w, w.floats(`${name}.WT`, transposed(f.W, F, u), [u, F]));
    const UT = f64(w, w.floats(`${name}.UT`, transposed(f.U, u, u), [u, u]));
    const W3 = f64(w, w.floats(`${name}.W3`, f.W, [1, F, u]));
    const U3 = f64(w, w.floats(`${name}.U3`, f.U, [1, u, u]));
    const b = f64(w, w.floats(`${name}.b`, f.bias, [u]));
    const a = c64(w, leak);
    const keepShare = w.o('Sub', [c64(w, 1), a], {}, 'one_minus_a');
    const rx: string[] = new Array(steps.length);
    const r = f64(w, r32);
    // Relevance arriving at each processing step's output: every step's for a sequence, else the last's.
    const rOut: (string | null)[] = steps.map(() => null);
    if (f.returnSequences) {
      for (let t = 0; t < f.T; t++) rOut[outStep(f, t)] = w.o('Reshape', [w.o('Gather', [r, w.ints('t', [t])], { axis: 2 }), w.ints('shape', [0, -1])], {}, 'r_out');
    } else rOut[f.T - 1] = r;
    let rCarried: string | null = null;
    for (let k = steps.length - 1; k >= 0; k--) {
      const st = steps[k];
      const parts0 = [rOut[k], rCarried].filter((v): v is string => !!v);
      const rH = parts0.length === 2 ? w.o('Add', parts0, {}, 'r_state') : parts0[0] ?? w.o('Mul', [r, c64(w, 0)], {}, 'r_none');
      let rPre = rH;
      let rhPrev: string | null = null;
      if (st.add) {
        if (rule.variant === 'esn') {
          rPre = w.o('Mul', [rH, a], {}, 'r_add');
          if (st.keep) rhPrev = w.o('Mul', [rH, keepShare], {}, 'r_keep');
        } else {
          // Split by epsilon with identity weights; at the first step the carried term is the zero state.
          const z = st.keep ? w.o('Add', [st.keep, st.add]) : st.add;
          const s = stab(w, z, eps);
          const q = w.o('Div', [rH, w.o('Add', [z, s])], {}, 'q');
          const half = rule.variant === 'conservative' ? w.o('Mul', [s, c64(w, st.keep ? 0.5 : 1)]) : null;
          rPre = w.o('Mul', [half ? w.o('Add', [st.add, half]) : st.add, q], {}, 'r_add');
          if (st.keep) rhPrev = w.o('Mul', [half ? w.o('Add', [st.keep, half]) : st.keep, q], {}, 'r_keep');
        }
      }
      let rxk: string;
      let rhLin: string | null = null;
      if (rule.variant === 'esn') {
        // z+ without the bias: the positive parts of x_i W_ij (and h_k U_kj), [N, F, u] and [N, u, u].
        const xw = w.o('Relu', [w.o('Mul', [w.o('Unsqueeze', [st.x, w.ints('axes', [2])]), W3])], {}, 'xw_pos');
        let den = w.o('Add', [w.o('ReduceSum', [xw, w.ints('axes', [1])], { keepdims: 0 }), c64(w, eps)], {}, 'den');
        let hu: string | null = null;
        if (st.hPrev) {
          hu = w.o('Relu', [w.o('Mul', [w.o('Unsqueeze', [st.hPrev, w.ints('axes', [2])]), U3])], {}, 'hu_pos');
          den = w.o('Add', [den, w.o('ReduceSum', [hu, w.ints('axes', [1])], { keepdims: 0 })], {}, 'den');
        }
        const d = w.o('Unsqueeze', [w.o('Div', [rPre, den], {}, 'd'), w.ints('axes', [1])]);
        rxk = w.o('ReduceSum', [w.o('Mul', [xw, d]), w.ints('axes', [2])], { keepdims: 0 }, 'rx');
        if (hu) rhLin = w.o('ReduceSum', [w.o('Mul', [hu, d]), w.ints('axes', [2])], { keepdims: 0 }, 'rh');
      } else {
        const s = stab(w, st.pre, eps);
        const d = w.o('Div', [rPre, w.o('Add', [st.pre, s])], {}, 'd');
        rxk = w.o('Mul', [st.x, w.o('MatMul', [d, WT])], {}, 'rx');
        if (st.hPrev) rhLin = w.o('Mul', [st.hPrev, w.o('MatMul', [d, UT])], {}, 'rh');
        if (rule.variant === 'conservative') {
          // The bias's and stabilizer's share, spread evenly over the sum's inputs (the zero state is none).
          const count = F + (st.hPrev ? u : 0);
          const shared = w.o('Div', [w.o('ReduceSum', [w.o('Mul', [w.o('Add', [b, s]), d]), w.ints('axes', [1])], { keepdims: 1 }), c64(w, count)], {}, 'shared');
          rxk = w.o('Add', [rxk, shared], {}, 'rx');
          if (rhLin) rhLin = w.o('Add', [rhLin, shared], {}, 'rh');
        }
      }
      // Placed at the step's input time.
      rx[inTime(f, k)] = w.o('Unsqueeze', [rxk, w.ints('axes', [2])], {}, 'rx_t');
      const parts = [rhPrev, rhLin].filter((v): v is string => !!v);
      rCarried = parts.length === 2 ? w.o('Add', parts, {}, 'r_h') : parts[0] ?? null;
    }
    return w.o('Cast', [rx.length === 1 ? rx[0] : w.o('Concat', rx, { axis: 2 }, `${name}.r_in`)], { to: FLOAT }, `${name}.r_in32`);
  };
}
