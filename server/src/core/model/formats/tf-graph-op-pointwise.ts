/**
 * Element-wise TF ops -> IR: activations (fused into the layer before them where that layer's output has
 * no other reader), binary ops between two activations (Add, Subtract, Multiply, Maximum, Minimum), and
 * binary ops between an activation and a per-channel constant: BiasAdd/Add folded into the preceding
 * linear layer's bias, otherwise a per-channel affine x * scale + shift held as a BatchNorm node (mean 0,
 * variance 1, epsilon 0: exact). Binary ops on two constants are folded.
 */
import type { ActivationName, ActivationSpec, LayerKind } from '../graph.js';
import { type Act, type ConstT, type Handler, type Importer, type TfNode, CONVERT_HINT, attrF, attrS } from './tf-graph-util.js';
import { ownTable } from '../../own-table.js';

const SIMPLE: Record<string, ActivationName> = ownTable({
  Relu: 'relu', Relu6: 'relu6', Elu: 'elu', Selu: 'selu', LeakyRelu: 'leaky_relu', Sigmoid: 'sigmoid', Tanh: 'tanh',
  Softplus: 'softplus', Softsign: 'softsign', Softmax: 'softmax', LogSoftmax: 'log_softmax', Exp: 'exponential',
});

/** The IR activation for a TF activation op (`alpha`: LeakyRelu's slope). */
export function activationOf(op: string, alpha: number): ActivationSpec {
  const name = SIMPLE[op];
  if (name === 'leaky_relu') return { name, alpha };
  return { name };
}

/** Kinds a following activation may be fused into (their output is a pre-activation). */
const FUSIBLE: ReadonlySet<LayerKind> = new Set(['Dense', 'Conv', 'DepthwiseConv', 'BatchNorm', 'Add']);

export const activation: Handler = (g, n) => {
  const x = g.act(n, 0);
  const spec = activationOf(n.op, attrF(n, 'alpha', 0.2) as number);
  const target = g.foldTarget(n, 0, x);
  if (target && FUSIBLE.has(target.kind) && target.activation.name === 'linear') {
    target.activation = spec;
    return g.pass(n, x, true);
  }
  return { a: g.emit('Activation', n.name, [x], { activation: spec }, { className: n.op, owner: n.name }) };
};

// ---- binary ops ----------------------------------------------------------------------------------

const MERGE: Record<string, LayerKind | undefined> = ownTable({ Add: 'Add', AddV2: 'Add', Sub: 'Subtract', Mul: 'Multiply', Maximum: 'Maximum', Minimum: 'Minimum' });

const ARITH: Record<string, (a: number, b: number) => number> = ownTable({
  Add: (a, b) => a + b, AddV2: (a, b) => a + b, BiasAdd: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b,
  RealDiv: (a, b) => a / b, Maximum: (a, b) => Math.max(a, b), Minimum: (a, b) => Math.min(a, b),
});

/** NumPy broadcasting of two constants (small: shape computations and the like). */
function foldBinary(g: Importer, n: TfNode, a: ConstT, b: ConstT): ConstT {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...Array(rank - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) g.fail('SHAPE_MISMATCH', `node ${n.name} (${n.op}): constants of shapes [${a.shape}] and [${b.shape}] do not broadcast`, n.name);
    return Math.max(d, pb[i]);
  });
  const size = shape.reduce((x, y) => x * y, 1);
  if (size > 1 << 20) g.fail('SHAPE_LIMIT', `node ${n.name} (${n.op}) would fold a constant of ${size} values`, n.name);
  const f = ARITH[n.op];
  const data = new Float32Array(size);
  const idx = new Array<number>(rank).fill(0);
  const offset = (p: number[], s: number[]): number => {
    let o = 0;
    for (let i = 0; i < rank; i++) o = o * s[i] + (s[i] === 1 ? 0 : p[i]);
    return o;
  };
  for (let k = 0; k < size; k++) {
    let r = k;
    for (let i = rank - 1; i >= 0; i--) {
      idx[i] = r % shape[i];
      r = Math.floor(r / shape[i]);
    }
    data[k] = f(a.data[offset(idx, pa)], b.data[offset(idx, pb)]);
  }
  return { shape, data };
}

/** A constant that varies at most along the channel (last) axis of `x`, as one value per channel. */
function perChannel(g: Importer, n: TfNode, c: ConstT, x: Act): Float32Array {
  const ch = x.shape[x.shape.length - 1];
  const ok = c.shape.length <= x.shape.length && c.shape.slice(0, -1).every((d) => d === 1);
  const last = c.shape.length ? c.shape[c.shape.length - 1] : 1;
  if (!ok || (last !== 1 && last !== ch) || typeof ch !== 'number') {
    g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) combines the tensor with a constant of shape [${c.shape}]; only scalars and per-channel vectors are supported`, n.name, CONVERT_HINT);
  }
  return last === ch ? c.data : new Float32Array(ch).fill(c.data[0]);
}

export const binary: Handler = (g, n) => {
  if (n.op === 'BiasAdd' && attrS(n, 'data_format', 'NHWC') !== 'NHWC') {
    g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) uses data_format ${attrS(n, 'data_format')}; only NHWC is supported`, n.name);
  }
  const a = g.input(n, 0);
  const b = g.input(n, 1);
  if (a.c && b.c) return { c: foldBinary(g, n, a.c, b.c) };
  if (a.a && b.a) {
    const kind = MERGE[n.op];
    if (!kind) return g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) between two computed tensors is not supported`, n.name, CONVERT_HINT);
    return { a: g.emit(kind, n.name, [a.a, b.a], {}, { className: n.op, owner: n.name }) };
  }
  const x = (a.a ?? b.a) as Act;
  const xFirst = !!a.a;
  const v = perChannel(g, n, (a.c ?? b.c) as ConstT, x);
  const ch = v.length;
  let scale: Float32Array | undefined;
  let shift: Float32Array | undefined;
  switch (n.op) {
    case 'Add': case 'AddV2': case 'BiasAdd':
      shift = v;
      break;
    case 'Sub':
      if (xFirst) shift = v.map((t) => -t);
      else {
        scale = new Float32Array(ch).fill(-1);
        shift = v;
      }
      break;
    case 'Mul':
      scale = v;
      break;
    case 'RealDiv':
      if (!xFirst) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (RealDiv) divides a constant by the tensor, which is not supported`, n.name, CONVERT_HINT);
      scale = v.map((t) => 1 / t);
      break;
    default:
      g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) with a constant operand is not supported`, n.name, CONVERT_HINT);
  }
  // A bias after a linear layer (MatMul + BiasAdd, Conv2D + BiasAdd) goes into that layer.
  const target = g.foldTarget(n, xFirst ? 0 : 1, x);
  if (!scale && shift && target && (target.kind === 'Dense' || target.kind === 'Conv' || target.kind === 'DepthwiseConv') && target.activation.name === 'linear') {
    const old = target.weights.bias?.data;
    const bias = new Float32Array(ch);
    for (let i = 0; i < ch; i++) bias[i] = (old ? old[i] : 0) + shift[i];
    target.weights.bias = { shape: [ch], data: bias };
    (target.params as { useBias: boolean }).useBias = true;
    target.source.className = `${target.source.className}+${n.op}`;
    return g.pass(n, x, true);
  }
  const gamma = scale ?? new Float32Array(ch).fill(1);
  const beta = shift ?? new Float32Array(ch);
  return {
    a: g.emit('BatchNorm', n.name, [x], { epsilon: 0, axis: -1, center: true, scale: true }, {
      weights: {
        gamma: { shape: [ch], data: gamma },
        beta: { shape: [ch], data: beta },
        movingMean: { shape: [ch], data: new Float32Array(ch) },
        movingVariance: { shape: [ch], data: new Float32Array(ch).fill(1) },
      },
      className: `${n.op} (per-channel constant)`,
      owner: n.name,
    }),
  };
};
