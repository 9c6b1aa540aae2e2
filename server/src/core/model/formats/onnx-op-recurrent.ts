/**
 * ONNX RNN, LSTM, GRU -> a Recurrent node (Y: every step, Y_h: the last state; both used: one node for Y
 * and a Cropping of its final step for Y_h, where one direction runs over a known length), with
 * the weights converted to Keras's layout and gate order (ONNX LSTM i o f c -> Keras i f c o; GRU z r h
 * is the same). ONNX puts time first (layout 0: X [T, N, I], Y [T, D, N, H]); the IR keeps batch first,
 * so such tensors are "time-major" values here: their batch is ONNX axis 1 (Act.axes[0] === 1), which
 * only the handlers in this file accept (the Transpose / Reshape / Squeeze PyTorch puts around the op).
 */
import { gateCount } from '../kinds/recurrent.js';
import type { ActivationSpec, RecurrentParams, WeightTensor } from '../graph.js';
import { LINEAR } from '../graph.js';
import { type Act, type Builder, identityAxes, irShape } from './onnx-build.js';
import { intList } from './onnx-const.js';
import { Attrs, type ConstValue, type NodeProto, type Sym } from './onnx-proto.js';
import { type Handler, type OpContext, normAxis, outName, product, setAct } from './onnx-op-util.js';

type Op = 'RNN' | 'LSTM' | 'GRU';
/** Keras gate k comes from ONNX gate ORDER[op][k]. */
const ORDER: Record<Op, number[]> = { RNN: [0], LSTM: [0, 2, 3, 1], GRU: [0, 1, 2] };
const CELL: Record<Op, RecurrentParams['cell']> = { RNN: 'simple', LSTM: 'lstm', GRU: 'gru' };

/** True for a node that reads a [batch, time, features] model input as it is (so the input stays in that layout). */
export function readsSequence(n: NodeProto, constOf: (v: string) => ConstValue | undefined = () => undefined): boolean {
  const attrs = new Attrs(n, '');
  if (n.opType === 'Transpose') {
    const p = attrs.ints('perm');
    return !!p && p.length === 3 && p[0] === 1 && p[1] === 0 && p[2] === 2;
  }
  // A loop over the time steps (onnx-recurrence.ts) reads steps along axis 1; Shape reads no layout.
  if ((n.opType === 'Gather' || n.opType === 'Split') && attrs.int('axis', 0) === 1) return true;
  if (n.opType === 'Shape') return true;
  if (n.opType === 'Slice') {
    // One step along axis 1 (u[:, t:t+1]); constants from the inputs (opset >= 10) or the attributes.
    const get = (i: number, attr: string) => {
      const c = n.input?.[i] ? constOf(n.input[i]) : undefined;
      return c ? (c.float ? Array.from(c.float) : c.ints!.filter((v): v is number => typeof v === 'number')) : attrs.ints(attr);
    };
    const [s, e, ax] = [get(1, 'starts'), get(2, 'ends'), get(3, 'axes')];
    return ax?.length === 1 && ax[0] === 1 && s?.length === 1 && e?.length === 1 && e[0] - s[0] === 1;
  }
  return (n.opType === 'RNN' || n.opType === 'LSTM' || n.opType === 'GRU') && attrs.int('layout', 0) === 1;
}

function activationList(n: NodeProto): string[] | undefined {
  const a = (n.attribute ?? []).find((x) => x.name === 'activations');
  return a ? (a.strings ?? []).map((s) => Buffer.from(s).toString('utf8')) : undefined;
}

function activation(b: Builder, name: string, fn: string, alpha: number | undefined, beta: number | undefined): ActivationSpec {
  switch (fn.toLowerCase()) {
    case 'sigmoid':
      return { name: 'sigmoid' };
    case 'tanh':
      return { name: 'tanh' };
    case 'relu':
      return { name: 'relu' };
    case 'hardsigmoid':
      return { name: 'hard_sigmoid', alpha: alpha ?? 0.2, beta: beta ?? 0.5 };
    default:
      return b.fail('UNSUPPORTED_CONFIG', `node ${name}: recurrent activation ${fn} is not supported (Sigmoid, Tanh, Relu, HardSigmoid)`, name);
  }
}

/** [gate activation, cell activation] from the activations attribute (per direction; both directions must agree). */
function activations(b: Builder, n: NodeProto, name: string, op: Op, dirs: number): [ActivationSpec, ActivationSpec] {
  const per = op === 'RNN' ? 1 : op === 'GRU' ? 2 : 3;
  const dflt = op === 'RNN' ? ['Tanh'] : op === 'GRU' ? ['Sigmoid', 'Tanh'] : ['Sigmoid', 'Tanh', 'Tanh'];
  const list = activationList(n) ?? Array.from({ length: dirs }, () => dflt).flat();
  if (list.length !== per * dirs) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${list.length} activations given, ${op} needs ${per} per direction`, name);
  const attrs = new Attrs(n, name);
  const al = attrs.floats('activation_alpha') ?? [];
  const be = attrs.floats('activation_beta') ?? [];
  const specs = list.map((fn, i) => activation(b, name, fn, al[i], be[i]));
  const key = (s: ActivationSpec) => JSON.stringify(s);
  if (dirs === 2 && specs.slice(0, per).some((s, i) => key(s) !== key(specs[per + i]))) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: the two directions use different activations; not supported`, name);
  }
  if (op === 'RNN') return [LINEAR, specs[0]];
  if (op === 'LSTM' && key(specs[1]) !== key(specs[2])) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: LSTM with different cell (g) and output (h) activations is not supported`, name);
  }
  return [specs[0], specs[1]];
}

function zeroConst(c: ConstValue): boolean {
  return c.float ? c.float.every((v) => v === 0) : (c.ints ?? []).every((v) => v === 0);
}

/** Keras-layout weights of direction d from ONNX W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H]. */
function directionWeights(op: Op, d: number, W: Float32Array, R: Float32Array, B: Float32Array | undefined, I: number, H: number, resetAfter: boolean): Record<string, WeightTensor> {
  const G = gateCount(CELL[op]);
  const order = ORDER[op];
  const kernel = new Float32Array(I * G * H);
  const rec = new Float32Array(H * G * H);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < H; j++) {
      const row = d * G * H + order[g] * H + j;
      for (let i = 0; i < I; i++) kernel[i * G * H + g * H + j] = W[row * I + i];
      for (let k = 0; k < H; k++) rec[k * G * H + g * H + j] = R[row * H + k];
    }
  }
  const out: Record<string, WeightTensor> = { kernel: { shape: [I, G * H], data: kernel }, recurrentKernel: { shape: [H, G * H], data: rec } };
  if (B) {
    const wb = new Float32Array(G * H);
    const rb = new Float32Array(G * H);
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < H; j++) {
        wb[g * H + j] = B[d * 2 * G * H + order[g] * H + j];
        rb[g * H + j] = B[d * 2 * G * H + G * H + order[g] * H + j];
      }
    }
    if (resetAfter) {
      const both = new Float32Array(2 * G * H);
      both.set(wb);
      both.set(rb, G * H);
      out.bias = { shape: [2, G * H], data: both };
    } else {
      // Both biases add to the same pre-activations (ONNX GRU without linear_before_reset adds Rbh outside r * (.)).
      out.bias = { shape: [G * H], data: wb.map((v, i) => v + rb[i]) };
    }
  }
  return out;
}

export const recurrentOp = (op: Op): Handler => (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const attrs = new Attrs(n, name);
  const ins = n.input ?? [];
  const layout = attrs.int('layout', 0);
  if (layout !== 0 && layout !== 1) b.fail('UNSUPPORTED_CONFIG', `node ${name}: layout ${layout}`, name);
  const xv = b.get(ins[0] ?? '');
  if (!xv) b.fail('GRAPH_INVALID', `node ${name} reads "${ins[0]}", which is not defined`, name);
  if (!xv.a) b.fail('UNSUPPORTED_CONFIG', `node ${name}: its input X is a constant; only layers on the model's input are supported`, name);
  const x0 = xv.a;
  if (x0.shape.length !== 3) b.fail('SHAPE_MISMATCH', `node ${name}: ${op} input X must have rank 3, got ${x0.shape.length}`, name);
  // The IR holds X as [batch, time, features]: ONNX axes [1, 0, 2] in layout 0, [0, 1, 2] in layout 1.
  const want = layout === 0 ? [1, 0, 2] : [0, 1, 2];
  if (x0.axes[0] !== want[0]) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: the batch axis of ${op}'s input X is not the model input's batch axis (a time-major model input?)`, name, 'export with batch_first=True (PyTorch) so the model input is [batch, time, features]');
  }
  const x = b.arrange(x0, want, name);
  const [N, T, I] = [x0.shape[want[0]], x0.shape[want[1]], x0.shape[want[2]]];
  if (I === null) b.fail('UNSUPPORTED_CONFIG', `node ${name}: the feature size of X is unknown`, name);

  if (attrs.has('clip')) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} with clip (cell clipping) is not supported`, name, 'export without clipping the cell state');
  if (op === 'LSTM' && attrs.int('input_forget', 0) !== 0) b.fail('UNSUPPORTED_CONFIG', `node ${name}: LSTM with input_forget (coupled gates) is not supported`, name);
  if (op === 'LSTM' && ins[7]) b.fail('UNSUPPORTED_CONFIG', `node ${name}: LSTM with peepholes (input P) is not supported`, name, 'use an LSTM without peephole connections (PyTorch and Keras LSTMs have none)');
  const dirAttr = attrs.string('direction', 'forward');
  if (dirAttr !== 'forward' && dirAttr !== 'reverse' && dirAttr !== 'bidirectional') b.fail('UNSUPPORTED_CONFIG', `node ${name}: direction ${dirAttr}`, name);
  const D = dirAttr === 'bidirectional' ? 2 : 1;
  const G = gateCount(CELL[op]);

  const W = b.constReq(ins[1], name, 'W');
  const R = b.constReq(ins[2], name, 'R');
  const B = b.constOpt(ins[3], name, 'B');
  const H = attrs.int('hidden_size', R.dims[2] ?? 0);
  if (W.dims.length !== 3 || W.dims[0] !== D || W.dims[1] !== G * H || W.dims[2] !== I) b.fail('WEIGHT_MISMATCH', `node ${name}: W has shape [${W.dims}], expected [${D}, ${G * H}, ${I}]`, name);
  if (R.dims.length !== 3 || R.dims[0] !== D || R.dims[1] !== G * H || R.dims[2] !== H) b.fail('WEIGHT_MISMATCH', `node ${name}: R has shape [${R.dims}], expected [${D}, ${G * H}, ${H}]`, name);
  if (B && (B.dims.length !== 2 || B.dims[0] !== D || B.dims[1] !== 2 * G * H)) b.fail('WEIGHT_MISMATCH', `node ${name}: B has shape [${B.dims}], expected [${D}, ${2 * G * H}]`, name);

  // sequence_lens: only "every sequence is whole" can be run.
  if (ins[4]) {
    const sl = b.get(ins[4]);
    const lens = sl?.c ? intList(sl.c, 'sequence_lens', name) : undefined;
    if (!lens || T === null || lens.some((v) => v !== T)) {
      b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} with sequence_lens (per-sequence lengths) is not supported; every sequence must run all its steps`, name, 'export without sequence lengths (no packed sequences) and trim or pad the inputs yourself');
    }
  }
  for (const [i, what] of [[5, 'initial_h'], [6, 'initial_c']] as const) {
    if (!ins[i] || (i === 6 && op !== 'LSTM')) continue;
    const v = b.get(ins[i]);
    if (!v?.c || !zeroConst(v.c)) {
      b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} with a non-zero or computed initial state (${what}) is not supported; only a zero initial state`, name, 'export the model without passing an initial state (h0/c0) to the recurrent layer');
    }
  }

  const resetAfter = op === 'GRU' && attrs.int('linear_before_reset', 0) !== 0;
  const [gate, cellAct] = activations(b, n, name, op, D);
  const Wf = b.floatOf(W);
  const Rf = b.floatOf(R);
  const Bf = B ? b.floatOf(B) : undefined;
  const weights: Record<string, WeightTensor> = directionWeights(op, 0, Wf, Rf, Bf, I, H, resetAfter);
  if (D === 2) {
    const back = directionWeights(op, 1, Wf, Rf, Bf, I, H, resetAfter);
    weights.backKernel = back.kernel;
    weights.backRecurrentKernel = back.recurrentKernel;
    if (back.bias) weights.backBias = back.bias;
  }
  const base: Omit<RecurrentParams, 'returnSequences'> = {
    cell: CELL[op],
    units: H,
    direction: dirAttr === 'forward' ? 'forward' : dirAttr === 'reverse' ? 'backward' : 'bidirectional',
    merge: D === 2 ? 'concat' : null,
    processingOrder: false,
    cellActivation: cellAct,
    recurrentActivation: gate,
    resetAfter,
    useBias: !!B,
  };
  const used = (i: number) => !!outName(n, i) && ((ctx.uses.get(outName(n, i)) ?? 0) > 0 || ctx.graphOutputs.has(outName(n, i)));
  if (op === 'LSTM' && used(2)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: the LSTM's cell state output Y_c is used; only Y and Y_h are supported`, name);
  const common = { className: op, onnxNodes: [name], weights };
  let seq = '';
  if (used(0)) {
    // IR [N, T, D*H] -> [N, T, D, H]; ONNX Y is [T, D, N, H] (layout 0) or [N, T, D, H] (layout 1).
    seq = b.emit('Recurrent', name, [x.node], { ...base, returnSequences: true }, { ...common, outShape: [N, T, D * H] });
    const y: Act = layout === 0 ? { node: '', shape: [T, D, N, H], axes: [2, 0, 1, 3] } : { node: '', shape: [N, T, D, H], axes: identityAxes(4) };
    y.node = b.emit('Reshape', `${name}/Y`, [seq], { targetShape: [-1, D, H] }, { className: op, onnxNodes: [name], outShape: irShape(y) });
    setAct(b, n, y, 0);
  }
  if (used(1) && seq && D === 1 && typeof T === 'number') {
    // Y_h from the same run: the step that holds the final state (the last one; ONNX reverse aligns its
    // sequence with the input, so there it is step 0), [N, 1, H] as the IR holds Y_h [D = 1, N, H].
    const crops: [number, number] = base.direction === 'backward' ? [0, T - 1] : [T - 1, 0];
    const yh: Act = layout === 0 ? { node: '', shape: [1, N, H], axes: [1, 0, 2] } : { node: '', shape: [N, 1, H], axes: identityAxes(3) };
    yh.node = b.emit('Cropping', `${name}/Y_h`, [seq], { rank: 1, crops: [crops] }, { className: op, onnxNodes: [name], outShape: irShape(yh) });
    setAct(b, n, yh, 1);
  } else if (used(1)) {
    const rnn = b.emit('Recurrent', `${name}/Y_h`, [x.node], { ...base, returnSequences: false }, { ...common, outShape: [N, D * H] });
    const yh: Act = layout === 0 ? { node: '', shape: [D, N, H], axes: [1, 0, 2] } : { node: '', shape: [N, D, H], axes: identityAxes(3) };
    yh.node = b.emit('Reshape', `${name}/Y_h/reshape`, [rnn], { targetShape: [D, H] }, { className: op, onnxNodes: [name], outShape: irShape(yh) });
    setAct(b, n, yh, 1);
  }
};

/** A time-major value (batch at ONNX axis 1 and IR axis 0, time at ONNX axis 0 and IR axis 1, the rest in order). */
function timeMajor(a: Act): boolean {
  return a.axes[0] === 1 && a.axes[1] === 0 && a.axes.slice(2).every((v, i) => v === i + 2);
}

function tmValue(b: Builder, n: NodeProto): Act | undefined {
  const v = b.get(n.input?.[0] ?? '');
  return v?.a && v.a.axes[0] !== 0 ? v.a : undefined;
}

/** Reshape [T, N, rest...] -> [T, N, rest'...] of a time-major value (PyTorch's [0, 0, -1] after a bidirectional RNN). */
function reshapeTimeMajor(b: Builder, n: NodeProto, name: string, x: Act, target: Sym[]): void {
  if (!timeMajor(x)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${n.opType} of a time-major tensor in this arrangement is not supported`, name);
  const rest = product(x.shape.slice(2));
  const keeps = (v: Sym, i: number) => v === 0 || v === x.shape[i] || (i === 1 && v === 'N');
  if (target.length < 2 || !keeps(target[0], 0) || !keeps(target[1], 1) || rest === null || target.slice(2).some((v) => typeof v !== 'number')) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${n.opType} to ${JSON.stringify(target)} of a time-major [time, batch, ...] tensor must keep the time and batch axes`, name);
  }
  const dims = (target.slice(2) as number[]).map((v, i) => (v === 0 ? (x.shape[i + 2] as number) : v));
  const known = dims.filter((v) => v !== -1).reduce((p, q) => p * q, 1);
  const resolved = dims.map((v) => (v === -1 ? rest / known : v));
  if (resolved.some((v) => !Number.isInteger(v) || v < 1) || resolved.reduce((p, q) => p * q, 1) !== rest) {
    b.fail('SHAPE_MISMATCH', `node ${name}: cannot reshape [${x.shape}] to ${JSON.stringify(target)}`, name);
  }
  const out: Act = { node: '', shape: [x.shape[0], x.shape[1], ...resolved], axes: [1, 0, ...resolved.map((_, i) => i + 2)] };
  out.node = b.emit('Reshape', name, [x.node], { targetShape: [-1, ...resolved] }, { className: n.opType!, onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
}

/** Wraps Transpose: a permutation that moves the batch axis only relabels axes (a time-major value, or back). */
export function transposeAcross(inner: Handler): Handler {
  return (b, n, name, ctx) => {
    const v = b.get(n.input?.[0] ?? '');
    const perm = new Attrs(n, name).ints('perm');
    if (!v?.a || !perm || (perm[0] === 0 && v.a.axes[0] === 0)) return inner(b, n, name, ctx);
    const x = v.a;
    const r = x.shape.length;
    if (perm.length !== r || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) b.fail('GRAPH_INVALID', `node ${name}: invalid perm ${perm}`, name);
    const inv = new Array<number>(r);
    perm.forEach((p, j) => (inv[p] = j));
    setAct(b, n, { node: x.node, shape: perm.map((p) => x.shape[p]), axes: x.axes.map((a) => inv[a]) });
  };
}

/** Wraps Reshape / Squeeze: time-major values take the path above, every other value the usual handler. */
export function timeMajorAware(inner: Handler, op: 'Reshape' | 'Squeeze'): Handler {
  return (b, n, name, ctx) => {
    const x = tmValue(b, n);
    if (!x) return inner(b, n, name, ctx);
    if (op === 'Reshape') {
      const t = b.constReq(n.input?.[1], name, 'shape');
      return reshapeTimeMajor(b, n, name, x, t.ints ?? Array.from(t.float ?? []));
    }
    const axesIn = ctx.opset >= 13 ? (n.input?.[1] ? intList(b.constOpt(n.input[1], name, 'axes'), 'axes', name) : undefined) : new Attrs(n, name).ints('axes');
    if (!axesIn) return b.fail('UNSUPPORTED_CONFIG', `node ${name}: Squeeze without axes of a time-major tensor`, name);
    const ax = axesIn.map((a) => normAxis(b, a, x.shape.length, name));
    if (ax.some((a) => a === x.axes[0] || x.shape[a] !== 1)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Squeeze of axes ${axesIn} (only size-1 axes other than the batch)`, name);
    // Dropping size-1 axes leaves the IR memory order as it is: relabel, and reshape the IR tensor.
    const axes = x.axes.filter((a) => !ax.includes(a)).map((a) => a - ax.filter((r) => r < a).length);
    const out: Act = { node: '', shape: x.shape.filter((_, i) => !ax.includes(i)), axes };
    const target = irShape(out).slice(1).map((d) => (d === null ? -1 : d));
    if (target.filter((d) => d === -1).length > 1) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Squeeze of a tensor with several unknown sizes`, name);
    out.node = b.emit('Reshape', name, [x.node], { targetShape: target }, { className: n.opType!, onnxNodes: [name], outShape: irShape(out) });
    setAct(b, n, out);
  };
}

