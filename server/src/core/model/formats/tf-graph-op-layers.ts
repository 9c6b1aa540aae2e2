/**
 * TF ops with weights or windows -> IR layers: Conv2D, DepthwiseConv2dNative, MatMul (Dense), their
 * grappler-fused forms (_FusedConv2D, FusedDepthwiseConv2dNative, _FusedMatMul: the linear op with its
 * bias, batch norm and activation, read from `fused_ops` and `num_args`), FusedBatchNorm*, MaxPool,
 * AvgPool and spatial Mean/Max (global pooling). Filter layouts already match the IR's
 * ([kh, kw, in, out], depthwise [kh, kw, in, multiplier], MatMul [in, out] unless transpose_b).
 */
import type { ActivationSpec, Padding, WeightTensor } from '../graph.js';
import {
  type Act, type ConstT, type Handler, type Importer, type TfNode, type Value, CONVERT_HINT, attrB, attrF, attrI, attrInts, attrS, dataRefs, normAxis,
} from './tf-graph-util.js';
import { activationOf } from './tf-graph-op-pointwise.js';

const tensor = (c: ConstT): WeightTensor => ({ shape: [...c.shape], data: c.data });

function requireNhwc(g: Importer, n: TfNode): void {
  const f = attrS(n, 'data_format', 'NHWC');
  if (f !== 'NHWC') g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) uses data_format ${f}; only NHWC (channels-last) is supported`, n.name, 'export the model with channels-last (NHWC) convolutions');
}

/** A 4-entry NHWC attribute list ([1, h, w, 1]) -> its spatial part, checking batch and channel entries are 1. */
function spatial4(g: Importer, n: TfNode, key: string, dflt: number[]): number[] {
  const v = attrInts(n, key) ?? dflt;
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1 || v.some((x) => !Number.isInteger(x) || x < 1)) {
    g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}): ${key} must be [1, h, w, 1], got ${JSON.stringify(v)}`, n.name);
  }
  return [v[1], v[2]];
}

function paddingOf(g: Importer, n: TfNode): Padding {
  const p = attrS(n, 'padding', 'VALID');
  if (p === 'SAME') return { mode: 'same', pads: [] };
  if (p === 'VALID') return { mode: 'valid', pads: [] };
  if (p === 'EXPLICIT') {
    const e = attrInts(n, 'explicit_paddings') ?? [];
    if (e.length !== 8 || e[0] || e[1] || e[6] || e[7] || e.some((x) => !Number.isInteger(x) || x < 0)) {
      g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}): explicit_paddings ${JSON.stringify(e)} must be 8 non-negative values with no batch or channel padding`, n.name);
    }
    return { mode: 'explicit', pads: [[e[2], e[3]], [e[4], e[5]]] };
  }
  return g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) has padding ${String(p)}; SAME, VALID and EXPLICIT are supported`, n.name);
}

/** The parts of a fused op: bias, batch-norm arguments and the activation after them. */
interface Fused {
  bias?: ConstT;
  bn?: { scale: ConstT; offset: ConstT; mean: ConstT; variance: ConstT; epsilon: number };
  activation: ActivationSpec;
}

const FUSED_ACTIVATIONS = new Set(['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Selu']);

function fusedParts(g: Importer, n: TfNode): Fused {
  const ops = n.attr.fused_ops?.list?.s ?? [];
  const numArgs = attrI(n, 'num_args', 0) as number;
  const args = (k: number): ConstT => g.const(n, 2 + k, `fused argument ${k}`);
  if (dataRefs(n.input).length < 2 + numArgs) g.fail('GRAPH_INVALID', `node ${n.name} (${n.op}) declares num_args ${numArgs} but has fewer inputs`, n.name);
  const out: Fused = { activation: { name: 'linear' } };
  let k = 0;
  let used = 0;
  if (ops[k] === 'BiasAdd') {
    out.bias = args(0);
    used = 1;
    k++;
  } else if (ops[k] === 'FusedBatchNorm') {
    out.bn = { scale: args(0), offset: args(1), mean: args(2), variance: args(3), epsilon: attrF(n, 'epsilon', 1e-4) as number };
    used = 4;
    k++;
  }
  if (k < ops.length) {
    const a = ops[k];
    if (!FUSED_ACTIVATIONS.has(a)) {
      g.fail('UNSUPPORTED_OP', `node ${n.name} (${n.op}) fuses ${ops.join(' + ')}; the fused op ${a} is not supported`, n.name, CONVERT_HINT);
    }
    out.activation = activationOf(a, attrF(n, 'leakyrelu_alpha', 0.2) as number);
    k++;
  }
  if (k !== ops.length) g.fail('UNSUPPORTED_OP', `node ${n.name} (${n.op}) fuses ${ops.join(' + ')}, which is not supported`, n.name, CONVERT_HINT);
  if (numArgs !== used) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}): num_args ${numArgs} does not fit fused_ops ${JSON.stringify(ops)}`, n.name);
  return out;
}

/** Attach the fused parts to the linear node `a` (bias into it, batch norm as its own node). */
function finishFused(g: Importer, n: TfNode, a: Act, f: Fused, units: number): Value {
  const node = g.node(a.node);
  if (f.bias) {
    if (f.bias.data.length !== units) g.fail('WEIGHT_MISMATCH', `node ${n.name} (${n.op}): bias has ${f.bias.data.length} values for ${units} outputs`, n.name);
    node.weights.bias = { shape: [units], data: f.bias.data };
    (node.params as { useBias: boolean }).useBias = true;
  }
  if (f.bn) {
    const out = batchNormNode(g, n, a, f.bn, `${n.name}/FusedBatchNorm`);
    g.node(out.node).activation = f.activation;
    return { a: out };
  }
  node.activation = f.activation;
  return { a };
}

function batchNormNode(g: Importer, n: TfNode, x: Act, bn: NonNullable<Fused['bn']>, name: string): Act {
  const vec = (c: ConstT): WeightTensor => ({ shape: [c.data.length], data: c.data });
  return g.emit('BatchNorm', name, [x], { epsilon: bn.epsilon, axis: -1, center: true, scale: true }, {
    weights: { gamma: vec(bn.scale), beta: vec(bn.offset), movingMean: vec(bn.mean), movingVariance: vec(bn.variance) },
    className: n.op,
    owner: n.name,
  });
}

function convLike(g: Importer, n: TfNode, depthwise: boolean, fused: boolean): Value {
  requireNhwc(g, n);
  const x = g.act(n, 0);
  const w = g.const(n, 1, 'filter');
  if (w.shape.length !== 4) g.fail('WEIGHT_MISMATCH', `node ${n.name} (${n.op}): filter must be 4-D, got [${w.shape}]`, n.name);
  const f = fused ? fusedParts(g, n) : { activation: { name: 'linear' as const } };
  const strides = spatial4(g, n, 'strides', [1, 1, 1, 1]);
  const dilation = spatial4(g, n, 'dilations', [1, 1, 1, 1]);
  const padding = paddingOf(g, n);
  const [kh, kw, ci, co] = w.shape;
  const weights = { kernel: tensor(w) };
  let a: Act;
  let units: number;
  if (depthwise) {
    units = ci * co;
    a = g.emit('DepthwiseConv', n.name, [x], { rank: 2, depthMultiplier: co, kernelSize: [kh, kw], strides, dilation, padding, useBias: false }, { weights, className: n.op, owner: n.name });
  } else {
    const cin = x.shape[3];
    const groups = typeof cin === 'number' && ci > 0 && cin % ci === 0 ? cin / ci : 1;
    units = co;
    a = g.emit('Conv', n.name, [x], { rank: 2, filters: co, kernelSize: [kh, kw], strides, dilation, padding, groups, useBias: false }, { weights, className: n.op, owner: n.name });
  }
  return finishFused(g, n, a, f, units);
}

export const conv2d: Handler = (g, n) => convLike(g, n, false, false);
export const fusedConv2d: Handler = (g, n) => convLike(g, n, false, true);
export const depthwiseConv2d: Handler = (g, n) => convLike(g, n, true, false);
export const fusedDepthwiseConv2d: Handler = (g, n) => convLike(g, n, true, true);

function matmulLike(g: Importer, n: TfNode, fused: boolean): Value {
  const av = g.input(n, 0);
  if (!av.a) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}): the left operand is a constant; only x @ W with x from the model's input is supported`, n.name, CONVERT_HINT);
  const x = av.a;
  if (x.shape.length !== 2) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) multiplies a rank-${x.shape.length} tensor; only rank 2 (batch, features) is supported`, n.name);
  if (attrB(n, 'transpose_a') || attrB(n, 'adj_x')) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) transposes its input (transpose_a), which would mix samples`, n.name);
  const w = g.const(n, 1, 'weight matrix');
  if (w.shape.length !== 2) g.fail('WEIGHT_MISMATCH', `node ${n.name} (${n.op}): weight must be 2-D, got [${w.shape}]`, n.name);
  const f = fused ? fusedParts(g, n) : { activation: { name: 'linear' as const } };
  if (f.bn) g.fail('UNSUPPORTED_OP', `node ${n.name} (${n.op}) fuses FusedBatchNorm into a MatMul, which is not supported`, n.name, CONVERT_HINT);
  let kernel: WeightTensor = tensor(w);
  if (attrB(n, 'transpose_b')) {
    const [r, c] = w.shape;
    const t = new Float32Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = w.data[i * c + j];
    kernel = { shape: [c, r], data: t };
  }
  const units = kernel.shape[1];
  const a = g.emit('Dense', n.name, [x], { units, useBias: false }, { weights: { kernel }, className: n.op, owner: n.name });
  return finishFused(g, n, a, f, units);
}

export const matmul: Handler = (g, n) => matmulLike(g, n, false);
export const fusedMatmul: Handler = (g, n) => matmulLike(g, n, true);

export const fusedBatchNorm: Handler = (g, n) => {
  requireNhwc(g, n);
  if (attrB(n, 'is_training')) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) is in training mode (batch statistics); export the model for inference`, n.name);
  const x = g.act(n, 0);
  const bn = { scale: g.const(n, 1, 'scale'), offset: g.const(n, 2, 'offset'), mean: g.const(n, 3, 'mean'), variance: g.const(n, 4, 'variance'), epsilon: attrF(n, 'epsilon', 1e-4) as number };
  return { a: batchNormNode(g, n, x, bn, n.name) };
};

export function pool(op: 'max' | 'avg'): Handler {
  return (g, n) => {
    requireNhwc(g, n);
    const x = g.act(n, 0);
    if (x.shape.length !== 4) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) pools a rank-${x.shape.length} tensor; rank 4 (NHWC) is supported`, n.name);
    const poolSize = spatial4(g, n, 'ksize', []);
    const strides = spatial4(g, n, 'strides', []);
    const padding = paddingOf(g, n);
    if (padding.mode === 'explicit') g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) has EXPLICIT padding; pooling supports SAME and VALID`, n.name);
    // TF's SAME average pooling divides by the cells inside the input only.
    return { a: g.emit('Pool', n.name, [x], { op, rank: 2, poolSize, strides, padding, ceilMode: false, countIncludePad: false }, { className: n.op, owner: n.name }) };
  };
}

/** Mean / Max over exactly the spatial axes: global pooling (`keep_dims` kept). */
export function reducePool(op: 'max' | 'avg'): Handler {
  return (g, n) => {
    const x = g.act(n, 0);
    const r = x.shape.length;
    const axes = g.ints(n, 1, 'reduction axes').map((v) => normAxis(v, r));
    const want = Array.from({ length: r - 2 }, (_, i) => i + 1);
    const got = [...new Set(axes)].sort((a, b) => (a ?? -1) - (b ?? -1));
    if (r < 3 || r > 5 || got.length !== want.length || got.some((v, i) => v !== want[i])) {
      g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) reduces axes ${JSON.stringify(axes)} of a rank-${r} tensor; only the spatial axes (global pooling) are supported`, n.name, CONVERT_HINT);
    }
    const keepDims = attrB(n, 'keep_dims');
    return { a: g.emit('GlobalPool', n.name, [x], { op, rank: (r - 2) as 1 | 2 | 3, keepDims }, { className: n.op, owner: n.name }) };
  };
}
