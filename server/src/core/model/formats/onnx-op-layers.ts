/** ONNX layers with weights or windows -> Conv, DepthwiseConv, ConvTranspose, Pool, GlobalPool, Dense, BatchNorm (weights channels-last). */
import type { Shape, WeightTensor } from '../graph.js';
import { type Act, type Builder, channelsLastAxes, identityAxes, irShape, sameAxes } from './onnx-build.js';
import { intList } from './onnx-const.js';
import { Attrs, type NodeProto } from './onnx-proto.js';
import {
  type Handler, type OpContext, normAxis, oihwToDepthwise, oihwToHwio, onlyFirstOutput, outName, perChannel, setAct, spatialOut, weight, windowAttrs,
} from './onnx-op-util.js';

/** A Conv or ConvTranspose node's input (channels-last), weight, optional bias, attributes and spatial rank (1-3). */
function convInputs(b: Builder, n: NodeProto, name: string, op: 'Conv' | 'ConvTranspose') {
  const x0 = b.act(n.input![0], name);
  const w = b.constReq(n.input![1], name, 'weight');
  const bias = b.constOpt(n.input![2], name, 'bias');
  const attrs = new Attrs(n, name);
  const rank = w.dims.length - 2;
  if (rank < 1 || rank > 3) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} weight of rank ${w.dims.length} (supported: 1-3 spatial dims)`, name);
  if (x0.shape.length !== rank + 2) b.fail('SHAPE_MISMATCH', `node ${name}: input rank ${x0.shape.length} does not fit a ${rank}-D ${op}`, name);
  return { x: b.arrange(x0, channelsLastAxes(rank + 2), name), w, bias, attrs, rank };
}

export const conv: Handler = (b: Builder, n: NodeProto, name: string) => {
  const { x, w, bias, attrs, rank } = convInputs(b, n, name, 'Conv');
  const [O, Ig] = w.dims;
  const kernel = attrs.ints('kernel_shape') ?? w.dims.slice(2);
  if (kernel.length !== rank || kernel.some((k, i) => k !== w.dims[2 + i])) b.fail('WEIGHT_MISMATCH', `node ${name}: kernel_shape ${kernel} does not match the weight ${w.dims.join('x')}`, name);
  const group = attrs.int('group', 1);
  const C = x.shape[1];
  if (C === null) b.fail('UNSUPPORTED_CONFIG', `node ${name}: the input channel count is unknown`, name);
  if (group < 1 || Ig * group !== C || O % group !== 0) b.fail('WEIGHT_MISMATCH', `node ${name}: weight ${w.dims.join('x')} with group ${group} does not fit ${C} input channels`, name);
  const win = windowAttrs(b, attrs, kernel, x.shape.slice(2), name, true);
  const f = b.floatOf(w);
  const weights: Record<string, WeightTensor> = {};
  if (bias) {
    if (bias.dims.reduce((p, d) => p * d, 1) !== O) b.fail('WEIGHT_MISMATCH', `node ${name}: bias has ${bias.dims.join('x')} values, the conv has ${O} filters`, name);
    weights.bias = weight([O], Float32Array.from(b.floatOf(bias)));
  }
  const outShape: Shape = [x.shape[0], O, ...spatialOut(x, win, false)];
  const out: Act = { node: '', shape: outShape, axes: channelsLastAxes(rank + 2) };
  const common = { className: 'Conv', onnxNodes: [name], outShape: irShape(out), origin: outName(n) };
  if (group > 1 && group === C && rank <= 2) {
    weights.kernel = oihwToDepthwise(w, f, C);
    out.node = b.emit('DepthwiseConv', name, [x.node], {
      rank: rank as 1 | 2, depthMultiplier: O / C, kernelSize: kernel, strides: win.strides, dilation: win.dilation, padding: win.padding, useBias: !!bias,
    }, { ...common, weights });
  } else {
    weights.kernel = oihwToHwio(w, f);
    out.node = b.emit('Conv', name, [x.node], {
      rank: rank as 1 | 2 | 3, filters: O, kernelSize: kernel, strides: win.strides, dilation: win.dilation, padding: win.padding, groups: group, useBias: !!bias,
    }, { ...common, weights });
  }
  setAct(b, n, out);
};

/**
 * ConvTranspose (group 1) -> ConvTranspose. Weight [C, F, k...] -> [k..., F, C] (the IR's Keras layout);
 * output_padding is folded into the explicit pads (after - output_padding), auto_pad SAME_* resolved from
 * the input sizes as the ONNX spec defines it.
 */
export const convTranspose: Handler = (b: Builder, n: NodeProto, name: string) => {
  const { x, w, bias, attrs, rank } = convInputs(b, n, name, 'ConvTranspose');
  const [C, F] = w.dims;
  const group = attrs.int('group', 1);
  if (group !== 1) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: ConvTranspose with group ${group} is not supported (group 1 only); export the grouped layer as ${group} ConvTranspose nodes with a Concat`, name);
  }
  if (x.shape[1] !== C) b.fail('WEIGHT_MISMATCH', `node ${name}: weight ${w.dims.join('x')} does not fit ${String(x.shape[1])} input channels`, name);
  const kernel = attrs.ints('kernel_shape') ?? w.dims.slice(2);
  if (kernel.length !== rank || kernel.some((k, i) => k !== w.dims[2 + i])) b.fail('WEIGHT_MISMATCH', `node ${name}: kernel_shape ${kernel} does not match the weight ${w.dims.join('x')}`, name);
  if (attrs.ints('output_shape')) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: ConvTranspose with an output_shape attribute is not supported; export with explicit pads and output_padding (torch.onnx.export does)`, name);
  }
  const strides = attrs.ints('strides') ?? kernel.map(() => 1);
  const dilation = attrs.ints('dilations') ?? kernel.map(() => 1);
  const op = attrs.ints('output_padding') ?? kernel.map(() => 0);
  if (strides.length !== rank || dilation.length !== rank || op.length !== rank) b.fail('UNSUPPORTED_CONFIG', `node ${name}: strides/dilations/output_padding do not match the kernel rank ${rank}`, name);
  if ([...kernel, ...strides, ...dilation].some((v) => !Number.isInteger(v) || v < 1 || v > 1 << 20) || op.some((v) => !Number.isInteger(v) || v < 0 || v > 1 << 20)) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: kernel, strides, dilations must be positive and output_padding non-negative integers`, name);
  }
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  const spatial = x.shape.slice(2);
  const K = kernel.map((k, i) => (k - 1) * dilation[i] + 1);
  let pads: [number, number][];
  if (autoPad === 'NOTSET' || autoPad === '') {
    const p = attrs.ints('pads') ?? new Array(2 * rank).fill(0);
    if (p.length !== 2 * rank || p.some((v) => !Number.isInteger(v) || v < 0 || v > 1 << 20)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: pads ${JSON.stringify(p)} must be ${2 * rank} non-negative integers`, name);
    pads = kernel.map((_, i) => [p[i], p[i + rank]]);
  } else if (autoPad === 'VALID') {
    pads = kernel.map(() => [0, 0]);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // Output in * stride; total padding (in - 1) * stride + output_padding + K - out, the odd cell at the end (UPPER) or start.
    pads = spatial.map((sz, i) => {
      if (sz === null) return b.fail('UNSUPPORTED_CONFIG', `node ${name}: auto_pad ${autoPad} needs known spatial sizes`, name);
      const total = strides[i] * (sz - 1) + op[i] + K[i] - sz * strides[i];
      if (total < 0) return b.fail('UNSUPPORTED_CONFIG', `node ${name}: auto_pad ${autoPad} with a kernel smaller than the stride is not supported; export with explicit pads`, name);
      const half = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
    });
  } else {
    return b.fail('UNSUPPORTED_CONFIG', `node ${name}: auto_pad ${autoPad} is not supported`, name);
  }
  const resolved = pads.map(([a, e], i) => [a, e - op[i]] as [number, number]);
  const f = b.floatOf(w);
  const weights: Record<string, WeightTensor> = { kernel: oihwToHwio(w, f) };
  if (bias) {
    if (bias.dims.reduce((p, d) => p * d, 1) !== F) b.fail('WEIGHT_MISMATCH', `node ${name}: bias has ${bias.dims.join('x')} values, the layer has ${F} outputs`, name);
    weights.bias = weight([F], Float32Array.from(b.floatOf(bias)));
  }
  const outSpatial = spatial.map((sz, i) => (sz === null ? null : (sz - 1) * strides[i] + K[i] - resolved[i][0] - resolved[i][1]));
  if (outSpatial.some((d) => d !== null && d < 1)) b.fail('SHAPE_MISMATCH', `node ${name}: pads ${JSON.stringify(pads)} leave no output`, name);
  const out: Act = { node: '', shape: [x.shape[0], F, ...outSpatial], axes: channelsLastAxes(rank + 2) };
  out.node = b.emit('ConvTranspose', name, [x.node], {
    rank: rank as 1 | 2 | 3, filters: F, kernelSize: kernel, strides, dilation, padding: { mode: 'explicit', pads: resolved }, outputPadding: null, useBias: !!bias,
  }, { className: 'ConvTranspose', onnxNodes: [name], outShape: irShape(out), origin: outName(n), weights });
  setAct(b, n, out);
};

export const pool: (op: 'max' | 'avg') => Handler = (op) => (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  onlyFirstOutput(n, name, b, ctx);
  const x0 = b.act(n.input![0], name);
  const attrs = new Attrs(n, name);
  const kernel = attrs.ints('kernel_shape');
  if (!kernel || kernel.length < 1 || kernel.length > 3) b.fail('UNSUPPORTED_CONFIG', `node ${name}: kernel_shape must give 1-3 sizes`, name);
  const rank = kernel.length;
  if (x0.shape.length !== rank + 2) b.fail('SHAPE_MISMATCH', `node ${name}: input rank ${x0.shape.length} does not fit a ${rank}-D pool`, name);
  const x = b.arrange(x0, channelsLastAxes(rank + 2), name);
  const win = windowAttrs(b, attrs, kernel, x.shape.slice(2), name, false);
  const ceilMode = attrs.int('ceil_mode', 0) === 1;
  const countIncludePad = op === 'avg' && attrs.int('count_include_pad', 0) === 1;
  const out: Act = { node: '', shape: [x.shape[0], x.shape[1], ...spatialOut(x, win, ceilMode)], axes: x.axes };
  out.node = b.emit('Pool', name, [x.node], {
    op, rank: rank as 1 | 2 | 3, poolSize: kernel, strides: win.strides, padding: win.padding, ceilMode, countIncludePad,
  }, { className: n.opType!, onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
};

export const globalPool: (op: 'max' | 'avg') => Handler = (op) => (b: Builder, n: NodeProto, name: string) => {
  const x0 = b.act(n.input![0], name);
  const r = x0.shape.length;
  if (r < 3 || r > 5) b.fail('UNSUPPORTED_CONFIG', `node ${name}: global pooling of a rank-${r} tensor`, name);
  const x = b.arrange(x0, channelsLastAxes(r), name);
  const out: Act = { node: '', shape: [x.shape[0], x.shape[1], ...new Array(r - 2).fill(1)], axes: x.axes };
  out.node = b.emit('GlobalPool', name, [x.node], { op, rank: (r - 2) as 1 | 2 | 3, keepDims: true }, { className: n.opType!, onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
};

/** ReduceMean/ReduceMax over exactly the spatial axes (keras2onnx / tf2onnx global pooling). */
export const reducePool: (op: 'max' | 'avg') => Handler = (op) => (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const x = b.act(n.input![0], name);
  const attrs = new Attrs(n, name);
  const r = x.shape.length;
  const axesIn = ctx.opset >= 18 && n.input![1] ? intList(b.constOpt(n.input![1], name, 'axes'), 'axes', name) : attrs.ints('axes');
  if (!axesIn || r < 3) b.fail('UNSUPPORTED_OP', `node ${name} (${n.opType}) reduces ${axesIn ? 'a rank-' + r + ' tensor' : 'all axes'}; only spatial (global pooling) reductions are supported`, name);
  const onnxAxes = axesIn.map((a) => normAxis(b, a, r, name));
  const irAxes = onnxAxes.map((a) => x.axes.indexOf(a)).sort((p, q) => p - q);
  const spatialIr = Array.from({ length: r - 2 }, (_, i) => i + 1);
  if (!sameAxes(irAxes, spatialIr)) b.fail('UNSUPPORTED_OP', `node ${name} (${n.opType}) over axes ${onnxAxes}; only a reduction over all spatial axes (global pooling) is supported`, name);
  const keep = attrs.int('keepdims', 1) === 1;
  const shape = x.shape.map((d, i) => (onnxAxes.includes(i) ? 1 : d));
  const out: Act = keep
    ? { node: '', shape, axes: x.axes }
    : { node: '', shape: x.shape.filter((_, i) => !onnxAxes.includes(i)), axes: [0, 1] };
  out.node = b.emit('GlobalPool', name, [x.node], { op, rank: (r - 2) as 1 | 2 | 3, keepDims: keep }, { className: n.opType!, onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
};

function denseFromKernel(b: Builder, n: NodeProto, name: string, x: Act, kernel: WeightTensor, bias: Float32Array | undefined, onnxNodes: string[]): void {
  const units = kernel.shape[1];
  const weights: Record<string, WeightTensor> = { kernel };
  if (bias) weights.bias = weight([units], bias);
  const out: Act = { node: '', shape: [...x.shape.slice(0, -1), units], axes: x.axes };
  out.node = b.emit('Dense', name, [x.node], { units, useBias: !!bias }, { className: n.opType!, weights, onnxNodes, outShape: irShape(out), origin: outName(n) });
  setAct(b, n, out);
}

export const gemm: Handler = (b: Builder, n: NodeProto, name: string) => {
  const x = b.act(n.input![0], name);
  const attrs = new Attrs(n, name);
  if (attrs.int('transA', 0) !== 0) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Gemm with transA = 1 is not supported`, name);
  if (x.shape.length !== 2) b.fail('SHAPE_MISMATCH', `node ${name}: Gemm input must be 2-D`, name);
  const B = b.constReq(n.input![1], name, 'weight B');
  const C = b.constOpt(n.input![2], name, 'bias C');
  const alpha = attrs.float('alpha', 1);
  const beta = attrs.float('beta', 1);
  const transB = attrs.int('transB', 0) === 1;
  if (B.dims.length !== 2) b.fail('WEIGHT_MISMATCH', `node ${name}: Gemm weight must be 2-D, got ${B.dims.join('x')}`, name);
  const [K, N] = transB ? [B.dims[1], B.dims[0]] : B.dims;
  if (x.shape[1] !== null && x.shape[1] !== K) b.fail('WEIGHT_MISMATCH', `node ${name}: Gemm weight ${B.dims.join('x')} does not fit ${x.shape[1]} input features`, name);
  const f = b.floatOf(B);
  const k = new Float32Array(K * N);
  for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) k[i * N + j] = alpha * (transB ? f[j * K + i] : f[i * N + j]);
  let bias: Float32Array | undefined;
  if (C) {
    const v = perChannel({ node: '', shape: [null, N], axes: [0, 1] }, C);
    if (!v) b.fail('WEIGHT_MISMATCH', `node ${name}: Gemm bias ${C.dims.join('x')} is not a per-unit vector of ${N}`, name);
    bias = v.map((t) => t * beta);
  }
  denseFromKernel(b, n, name, x, weight([K, N], k), bias, [name]);
};

export const matmul: Handler = (b: Builder, n: NodeProto, name: string) => {
  const va = b.get(n.input![0] ?? '');
  const vb = b.get(n.input![1] ?? '');
  if (!va?.a || !vb?.c) b.fail('UNSUPPORTED_CONFIG', `node ${name}: MatMul is supported as activation x constant weight only`, name);
  const W = vb.c;
  if (W.dims.length !== 2) b.fail('UNSUPPORTED_CONFIG', `node ${name}: MatMul weight must be 2-D, got ${W.dims.join('x')}`, name);
  let x = va.a;
  if (x.shape.length < 2) b.fail('SHAPE_MISMATCH', `node ${name}: MatMul input must have rank 2 or more`, name);
  // Dense works on the IR last axis: the ONNX last axis must be there, in ONNX order.
  x = b.arrange(x, identityAxes(x.shape.length), name);
  const [K, N] = W.dims;
  const last = x.shape[x.shape.length - 1];
  if (last !== null && last !== K) b.fail('WEIGHT_MISMATCH', `node ${name}: MatMul weight ${W.dims.join('x')} does not fit ${last} input features`, name);
  denseFromKernel(b, n, name, x, weight([K, N], Float32Array.from(b.floatOf(W))), undefined, [name]);
};

export const batchNorm: Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  onlyFirstOutput(n, name, b, ctx);
  const attrs = new Attrs(n, name);
  if (attrs.int('training_mode', 0) === 1) b.fail('UNSUPPORTED_CONFIG', `node ${name}: BatchNormalization in training mode`, name);
  // Opsets before 9: spatial = 0 normalises each activation separately (statistics shaped like C x H x W).
  if (attrs.int('spatial', 1) === 0) b.fail('UNSUPPORTED_CONFIG', `node ${name}: BatchNormalization with spatial = 0`, name);
  const x0 = b.act(n.input![0], name);
  const r = x0.shape.length;
  if (r < 2) b.fail('SHAPE_MISMATCH', `node ${name}: BatchNormalization needs rank 2 or more`, name);
  const x = b.arrange(x0, channelsLastAxes(r), name);
  const C = x.shape[1];
  const get = (i: number, what: string): WeightTensor => {
    const c = b.constReq(n.input![i], name, what);
    const f = Float32Array.from(b.floatOf(c));
    if (C !== null && f.length !== C) b.fail('WEIGHT_MISMATCH', `node ${name}: ${what} has ${f.length} values, the input has ${C} channels`, name);
    return weight([f.length], f);
  };
  const weights = { gamma: get(1, 'scale'), beta: get(2, 'bias'), movingMean: get(3, 'mean'), movingVariance: get(4, 'var') };
  const out: Act = { node: '', shape: x.shape, axes: x.axes };
  out.node = b.emit('BatchNorm', name, [x.node], { epsilon: attrs.float('epsilon', 1e-5), axis: -1, center: true, scale: true }, {
    className: 'BatchNormalization', weights, onnxNodes: [name], outShape: irShape(out),
  });
  setAct(b, n, out);
};

