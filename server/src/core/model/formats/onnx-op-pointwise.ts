/** ONNX activations and elementwise ops -> Activation, merges, or constants folded into Conv/Dense/BatchNorm. */
import type { ActivationSpec, WeightTensor } from '../graph.js';
import { type Act, type Builder, irShape, sameAxes } from './onnx-build.js';
import { Attrs, type NodeProto, constNumbers } from './onnx-proto.js';
import { type Handler, type OpContext, irAxis, normAxis, outName, perChannel, setAct, weight } from './onnx-op-util.js';
import { ownTable } from '../../own-table.js';


export function emitActivation(b: Builder, n: NodeProto, name: string, spec: ActivationSpec, xIn?: Act): void {
  const x = xIn ?? b.act(n.input![0], name);
  const out: Act = { node: '', shape: x.shape, axes: x.axes };
  out.node = b.emit('Activation', name, [x.node], { activation: spec }, { className: n.opType!, onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
}

export const simpleActivation = (spec: (a: Attrs) => ActivationSpec): Handler => (b: Builder, n: NodeProto, name: string) => emitActivation(b, n, name, spec(new Attrs(n, name)));

const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

export const selu: Handler = (b: Builder, n: NodeProto, name: string) => {
  const a = new Attrs(n, name);
  if (Math.abs(a.float('alpha', SELU_ALPHA) - SELU_ALPHA) > 1e-5 || Math.abs(a.float('gamma', SELU_GAMMA) - SELU_GAMMA) > 1e-5) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: Selu with non-standard alpha/gamma`, name);
  }
  emitActivation(b, n, name, { name: 'selu' });
};

/**
 * PRelu: one shared slope is a leaky ReLU; other slopes (broadcast unidirectionally to X, numpy style:
 * PyTorch exports [C, 1, 1]) become a PReLU node whose alpha is the slope in the IR's axis order.
 */
export const prelu: Handler = (b: Builder, n: NodeProto, name: string) => {
  const sc = b.constReq(n.input![1], name, 'slope');
  const slope = constNumbers(sc);
  if (!slope || slope.length === 0) b.fail('UNSUPPORTED_CONFIG', `node ${name}: PRelu slope is empty or not numeric`, name);
  if (slope.every((v) => v === slope[0])) return emitActivation(b, n, name, { name: 'leaky_relu', alpha: slope[0] });
  const x = b.act(n.input![0], name);
  const r = x.shape.length;
  const dims = [...new Array(Math.max(0, r - sc.dims.length)).fill(1), ...sc.dims];
  if (dims.length !== r || dims[0] !== 1 || dims.some((d, i) => d !== 1 && d !== x.shape[i])) {
    b.fail('SHAPE_MISMATCH', `node ${name}: PRelu slope ${sc.dims.join('x')} does not broadcast to the input ${x.shape.map((d) => d ?? '?').join('x')} (without its batch axis)`, name);
  }
  // alpha[i1.., per IR axis 1..r-1] = slope at the ONNX index those IR axes hold.
  const alphaShape = x.axes.slice(1).map((ax) => dims[ax]);
  const step = new Array<number>(r).fill(0);
  for (let i = r - 1, k = 1; i >= 0; i--) {
    step[i] = dims[i] === 1 ? 0 : k;
    k *= dims[i];
  }
  const data = new Float32Array(alphaShape.reduce((p, q) => p * q, 1));
  const idx = new Array<number>(alphaShape.length).fill(0);
  for (let j = 0; j < data.length; j++) {
    let src = 0;
    idx.forEach((v, i) => (src += v * step[x.axes[i + 1]]));
    data[j] = slope[src];
    for (let i = alphaShape.length - 1; i >= 0; i--) {
      if (++idx[i] < alphaShape[i]) break;
      idx[i] = 0;
    }
  }
  const out: Act = { node: '', shape: x.shape, axes: x.axes };
  out.node = b.emit('PReLU', name, [x.node], { sharedAxes: [] }, {
    className: n.opType!, onnxNodes: [name], outShape: irShape(out), weights: { alpha: weight(alphaShape, data) },
  });
  setAct(b, n, out);
};

export const clip: Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const attrs = new Attrs(n, name);
  let lo = -Infinity;
  let hi = Infinity;
  if (ctx.opset < 11) {
    lo = attrs.float('min', -Infinity);
    hi = attrs.float('max', Infinity);
  } else {
    const cmin = b.constOpt(n.input![1], name, 'min');
    const cmax = b.constOpt(n.input![2], name, 'max');
    if (cmin) lo = constNumbers(cmin)?.[0] ?? NaN;
    if (cmax) hi = constNumbers(cmax)?.[0] ?? NaN;
  }
  if (lo !== 0 || !(hi > 0)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Clip(${lo}, ${hi}) is supported only as a ReLU (min 0)`, name);
  const spec: ActivationSpec = hi === 6 ? { name: 'relu6' } : hi >= 3.4e38 ? { name: 'relu' } : { name: 'relu', maxValue: hi };
  emitActivation(b, n, name, spec);
};

export const softmax = (kind: 'softmax' | 'log_softmax'): Handler => (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const x = b.act(n.input![0], name);
  const attrs = new Attrs(n, name);
  const r = x.shape.length;
  const axis = normAxis(b, attrs.int('axis', ctx.opset >= 13 ? -1 : 1), r, name);
  if (ctx.opset < 13 && axis !== r - 1) {
    // Before opset 13 the input is flattened to 2-D at `axis`: the same only when the trailing dims are 1.
    if (x.shape.slice(axis + 1).some((d) => d !== 1)) {
      b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${n.opType} over the flattened axes ${axis}.. (opset ${ctx.opset}) is not supported`, name);
    }
  }
  emitActivation(b, n, name, { name: kind, axis: irAxis(x, axis) }, x);
};


const MERGE: Record<string, 'Add' | 'Subtract' | 'Multiply' | 'Maximum' | 'Minimum' | 'Average'> = ownTable({
  Add: 'Add', Sum: 'Add', Sub: 'Subtract', Mul: 'Multiply', Max: 'Maximum', Min: 'Minimum', Mean: 'Average',
});

/** Multiply a Dense/Conv/DepthwiseConv node's output channels by v (kernel and bias). */
function scaleOutputs(node: { weights: Record<string, WeightTensor> }, v: Float32Array): void {
  const k = node.weights.kernel;
  const O = v.length;
  const kd = Float32Array.from(k.data);
  for (let i = 0; i < kd.length; i++) kd[i] *= v[i % O];
  node.weights.kernel = weight(k.shape, kd);
  if (node.weights.bias) node.weights.bias = weight([O], node.weights.bias.data.map((t, i) => t * v[i]));
}

/** x (op) const folded into the preceding linear node, when nothing else reads that node's output. */
function tryFold(b: Builder, op: string, x: Act, inName: string, v: Float32Array, constFirst: boolean, name: string, ctx: OpContext): boolean {
  const src = b.node(x.node);
  if (src.kind !== 'Dense' && src.kind !== 'Conv' && src.kind !== 'DepthwiseConv') return false;
  if (src.activation.name !== 'linear' || b.origin.get(x.node) !== inName) return false;
  if ((ctx.uses.get(inName) ?? 0) !== 1 || ctx.graphOutputs.has(inName)) return false;
  const O = src.kind === 'Dense' ? src.params.units : src.kind === 'Conv' ? src.params.filters : src.weights.kernel.shape.slice(-2).reduce((p, q) => p * q, 1);
  if (v.length !== O) return false;
  const p = src.params as { useBias: boolean };
  const bias = (): Float32Array => {
    if (!src.weights.bias) {
      src.weights.bias = weight([O], new Float32Array(O));
      p.useBias = true;
    }
    return src.weights.bias.data;
  };
  switch (op) {
    case 'Add': { const bb = bias(); for (let i = 0; i < O; i++) bb[i] += v[i]; break; }
    case 'Sub': {
      if (constFirst) return false;
      const bb = bias(); for (let i = 0; i < O; i++) bb[i] -= v[i]; break;
    }
    case 'Mul': scaleOutputs(src, v); break;
    case 'Div': if (constFirst) return false; scaleOutputs(src, v.map((t) => 1 / t)); break;
    default: return false;
  }
  src.source.onnxNodes = [...(src.source.onnxNodes ?? []), name];
  return true;
}

export const elementwise: Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const op = n.opType!;
  const ins = (n.input ?? []).filter((i) => i);
  const vals = ins.map((i) => b.get(i));
  if (vals.some((v) => !v)) b.fail('GRAPH_INVALID', `node ${name} reads an undefined value`, name);
  const acts = vals.filter((v) => v!.a).map((v) => v!.a!);
  const consts = vals.filter((v) => v!.c).map((v) => v!.c!);
  if (acts.some((a) => a.axes[0] !== 0)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} of a time-major tensor (the batch axis is not first) is not supported`, name, 'export with batch_first=True so the recurrent output is transposed back to [batch, time, ...] first');

  if (acts.length >= 2 && consts.length === 0) {
    // swish: x * sigmoid(x)
    if (op === 'Mul' && acts.length === 2) {
      for (const [p, q, qi] of [[acts[0], acts[1], 1], [acts[1], acts[0], 0]] as const) {
        const qn = b.node(q.node);
        if (qn.kind === 'Activation' && qn.params.activation.name === 'sigmoid' && qn.inbound[0] === p.node && sameAxes(p.axes, q.axes) && (ctx.uses.get(ins[qi]) ?? 0) === 1) {
          b.remove(q.node);
          emitActivation(b, n, name, { name: 'swish' }, p);
          b.node(b.act(outName(n), name).node).source.onnxNodes = [...(qn.source.onnxNodes ?? []), name];
          return;
        }
      }
    }
    const kind = MERGE[op];
    if (!kind || (op === 'Sub' && acts.length !== 2)) {
      b.fail('UNSUPPORTED_OP', `node ${name}: ${op} of two activations is not supported`, name);
    }
    const xs = acts.map((a) => b.arrange(a, acts[0].axes, name));
    for (const a of xs) {
      if (a.shape.length !== xs[0].shape.length || a.shape.some((d, i) => i > 0 && d !== xs[0].shape[i])) {
        b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} of tensors with different shapes (broadcasting between layers is not supported)`, name);
      }
    }
    const out: Act = { node: '', shape: xs[0].shape, axes: xs[0].axes };
    out.node = b.emit(kind, name, xs.map((a) => a.node), {} as never, { className: op, onnxNodes: [name], outShape: irShape(out) });
    setAct(b, n, out);
    return;
  }

  if (acts.length === 1 && consts.length === 1 && ins.length === 2 && op === 'Max') {
    // max(x, 0) is a ReLU (some exporters write it so).
    const c = constNumbers(consts[0]);
    if (c && c.length > 0 && c.every((v) => v === 0)) {
      emitActivation(b, n, name, { name: 'relu' }, acts[0]);
      return;
    }
  }
  if (acts.length === 1 && consts.length === 1 && ins.length === 2 && ['Add', 'Sub', 'Mul', 'Div'].includes(op)) {
    const x = acts[0];
    const constFirst = !!vals[0]!.c;
    const v = perChannel(x, consts[0]);
    if (!v) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} with a constant of shape ${consts[0].dims.join('x') || 'scalar'} that is not per channel`, name);
    const inName = ins[constFirst ? 1 : 0];
    if (tryFold(b, op, x, inName, v, constFirst, name, ctx)) {
      // The node now computes this output: a following constant op may fold too.
      b.origin.set(x.node, outName(n));
      setAct(b, n, x);
      return;
    }
    if (op === 'Div' && constFirst) b.fail('UNSUPPORTED_CONFIG', `node ${name}: constant divided by an activation`, name);
    // Any other per-channel affine map: a BatchNorm with mean 0, variance 1 and epsilon 0.
    const C = v.length;
    const gamma = new Float32Array(C).fill(1);
    const beta = new Float32Array(C);
    for (let i = 0; i < C; i++) {
      if (op === 'Add') beta[i] = v[i];
      else if (op === 'Sub') { if (constFirst) { gamma[i] = -1; beta[i] = v[i]; } else beta[i] = -v[i]; }
      else if (op === 'Mul') gamma[i] = v[i];
      else gamma[i] = 1 / v[i];
    }
    const out: Act = { node: '', shape: x.shape, axes: x.axes };
    out.node = b.emit('BatchNorm', name, [x.node], { epsilon: 0, axis: -1, center: true, scale: true }, {
      className: op, onnxNodes: [name], outShape: irShape(out),
      weights: { gamma: weight([C], gamma), beta: weight([C], beta), movingMean: weight([C], new Float32Array(C)), movingVariance: weight([C], new Float32Array(C).fill(1)) },
    });
    setAct(b, n, out);
    return;
  }
  b.fail('UNSUPPORTED_OP', `node ${name}: ${op} of ${acts.length} activation(s) and ${consts.length} constant(s) is not supported`, name);
};

