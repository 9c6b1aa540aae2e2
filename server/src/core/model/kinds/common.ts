/**
 * Shape arithmetic shared by the kind modules: TF 'same' padding, window output sizes, checks that raise
 * structured errors (a bad file must give a LensError, never a tfjs exception later).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Dim, LayerNode, Padding, Shape, WeightTensor } from '../graph.js';
import { LensError, LIMITS } from '../../errors.js';

export type TF = typeof tfTypes;
export type Tensor = tfTypes.Tensor;

export function mismatch(node: { name: string }, message: string): never {
  throw new LensError('SHAPE_MISMATCH', message, { layer: node.name });
}

export function badConfig(node: { name: string }, message: string): never {
  throw new LensError('UNSUPPORTED_CONFIG', message, { layer: node.name });
}

/** Exactly `n` inputs, each with a known rank. */
export function expectInputs(node: { name: string; kind: string }, inputs: Shape[], n: number): void {
  if (inputs.length !== n) mismatch(node, `${node.kind} layer ${node.name} takes ${n} input(s), got ${inputs.length}`);
}

/** Positive integers (layer hyper-parameters such as kernel sizes, strides). */
export function checkPositiveInts(node: { name: string }, what: string, values: unknown, length: number): number[] {
  if (!Array.isArray(values) || values.length !== length || values.some((v) => !Number.isInteger(v) || v < 1 || v > 1 << 24)) {
    badConfig(node, `${what} must be ${length} positive integer(s), got ${JSON.stringify(values)}`);
  }
  return values as number[];
}

export function checkPads(node: { name: string }, pads: unknown, rank: number): [number, number][] {
  if (!Array.isArray(pads) || pads.length !== rank) badConfig(node, `padding must have ${rank} [before, after] pairs, got ${JSON.stringify(pads)}`);
  for (const p of pads) {
    if (!Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0 || v > 1 << 24)) {
      badConfig(node, `padding amounts must be non-negative integers, got ${JSON.stringify(pads)}`);
    }
  }
  return pads as [number, number][];
}

/** TF 'same': output ceil(in/s); pad_total = max((out-1)*s + (k-1)*d + 1 - in, 0), the extra cell after. */
export function samePads(inSize: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * Padding for each spatial dim from the mode and the input sizes. Unknown sizes (null) leave 'same'
 * unresolved ([0, 0]); forward resolves again from the real tensor, so the run is right either way.
 */
export function resolvePads(node: { name: string }, padding: Padding, spatial: Dim[], kernel: number[], strides: number[], dilation: number[]): [number, number][] {
  const r = spatial.length;
  switch (padding.mode) {
    case 'valid':
      return spatial.map(() => [0, 0]);
    case 'explicit':
      return checkPads(node, padding.pads, r).map((p) => [p[0], p[1]]);
    case 'causal':
      if (r !== 1) badConfig(node, `causal padding is only defined for 1-D layers`);
      return [[(kernel[0] - 1) * dilation[0], 0]];
    case 'same':
      return spatial.map((s, i) => (s === null ? [0, 0] : samePads(s, kernel[i], strides[i], dilation[i])));
    default:
      return badConfig(node, `unknown padding mode ${String((padding as Padding).mode)}`);
  }
}

/** Output size of a window op; null in, null out. */
export function windowOut(inSize: Dim, pads: [number, number], kernel: number, stride: number, dilation: number, ceilMode = false): Dim {
  if (inSize === null) return null;
  const span = (kernel - 1) * dilation + 1;
  const room = inSize + pads[0] + pads[1] - span;
  if (room < 0) return 0;
  if (!ceilMode) return Math.floor(room / stride) + 1;
  let out = Math.ceil(room / stride) + 1;
  // PyTorch/ONNX: the last window must start inside the input or its left padding.
  if ((out - 1) * stride >= inSize + pads[0]) out--;
  return out;
}

/**
 * Output spatial sizes of a window op over channels-last `x` (conv, depthwise conv, pooling); the pads
 * resolved from the input sizes are stored in `padding.pads` for forward and the artifact checks.
 */
export function windowedSpatial(node: { name: string }, x: Shape, padding: Padding, kernel: number[], strides: number[], dilation: number[], ceilMode = false): Dim[] {
  const spatial = x.slice(1, -1);
  const pads = resolvePads(node, padding, spatial, kernel, strides, dilation);
  padding.pads = pads;
  return spatial.map((s, i) => windowOut(s, pads[i], kernel[i], strides[i], dilation[i], ceilMode));
}

/** Elements per sample; throws SHAPE_LIMIT above the allocation limit. */
export function checkSize(node: { name: string }, shape: Shape): Shape {
  let n = 1;
  for (let i = 1; i < shape.length; i++) {
    const d = shape[i];
    if (d === null) continue;
    if (!Number.isInteger(d) || d < 0) mismatch(node, `layer ${node.name} has an invalid output dimension ${d}`);
    if (d === 0) mismatch(node, `layer ${node.name} has an empty output (shape ${fmtShape(shape)})`);
    n *= d;
  }
  if (n > LIMITS.maxTensorElements) {
    throw new LensError('SHAPE_LIMIT', `layer ${node.name} output ${fmtShape(shape)} has ${n} elements per sample, above the limit of ${LIMITS.maxTensorElements}`, { layer: node.name });
  }
  return shape;
}

export function fmtShape(shape: Shape): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
}

/** A weight that must exist with the given shape (null entries: any size). */
export function expectWeight(node: LayerNode, key: string, shape: (number | null)[]): WeightTensor {
  const w = node.weights[key];
  if (!w) throw new LensError('MISSING_WEIGHTS', `layer ${node.name} has no '${key}' weight`, { layer: node.name });
  checkWeightShape(node, key, w, shape);
  return w;
}

export function checkWeightShape(node: LayerNode, key: string, w: WeightTensor, shape: (number | null)[]): void {
  const ok = w.shape.length === shape.length && shape.every((d, i) => d === null || d === w.shape[i]);
  const count = w.shape.reduce((a, b) => a * b, 1);
  if (!ok || count !== w.data.length) {
    throw new LensError(
      'WEIGHT_MISMATCH',
      `layer ${node.name}: weight '${key}' has shape ${fmtShape(w.shape)} (${w.data.length} values), expected ${fmtShape(shape)}`,
      { layer: node.name },
    );
  }
}

/** Last (channel) dimension, which most kinds need known. */
export function channels(node: { name: string }, shape: Shape): number {
  const c = shape[shape.length - 1];
  if (c === null || c === undefined) mismatch(node, `layer ${node.name} needs a known channel dimension, input is ${fmtShape(shape)}`);
  return c;
}

export function expectRank(node: { name: string; kind: string }, shape: Shape, rank: number): void {
  if (shape.length !== rank) mismatch(node, `${node.kind} layer ${node.name} expects a rank-${rank} input (batch included), got ${fmtShape(shape)}`);
}

/**
 * The one input of a windowed kind (batch, spatial..., channels) with its checked params: one input, then
 * `check` on the params, then rank spatial + 2 (this order decides which error a bad layer gets).
 */
export function spatialInput<N extends { name: string; kind: string }, P extends { rank: number }>(
  node: N,
  inputs: Shape[],
  check: (node: N) => P,
): { p: P; x: Shape } {
  expectInputs(node, inputs, 1);
  const p = check(node);
  const x = inputs[0];
  expectRank(node, x, p.rank + 2);
  return { p, x };
}

/** tf tensor for a weight. */
export function weightTensor(tf: TF, w: WeightTensor): Tensor {
  return tf.tensor(w.data, w.shape, 'float32');
}

/** Spatial sizes of a channels-last tensor. */
export function spatialOf(x: Tensor): number[] {
  return x.shape.slice(1, x.shape.length - 1);
}

/** Pad spatial dims (channels-last) by [before, after] pairs with a constant. Negative pads are not allowed. */
export function padSpatial(tf: TF, x: Tensor, pads: [number, number][], value = 0): Tensor {
  if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
  return tf.pad(x, [[0, 0], ...pads, [0, 0]], value);
}

/**
 * The input cells one window tap sees: x[:, off_i + o_i * s_i, ..., :] for every output position, as a
 * [N, ...out, C] tensor. Built from slice and reshape only (both have correct gradients on every tfjs
 * backend). `x` must extend to at least off_i + out_i * s_i along each spatial dim (pad it first).
 */
export function stridedTap(tf: TF, x: Tensor, offsets: number[], out: number[], strides: number[]): Tensor {
  const shape = x.shape as number[];
  const n = shape[0];
  const c = shape[shape.length - 1];
  let t = tf.slice(x, [0, ...offsets, 0], [n, ...out.map((o, i) => o * strides[i]), c]);
  for (let i = 0; i < out.length; i++) {
    const s = strides[i];
    if (s === 1) continue;
    const cur = t.shape as number[];
    const before = cur.slice(0, i + 1).reduce((a, b) => a * b, 1);
    const after = cur.slice(i + 2).reduce((a, b) => a * b, 1);
    const picked = tf.slice(tf.reshape(t, [before * out[i], s, after]), [0, 0, 0], [before * out[i], 1, after]);
    t = tf.reshape(picked, [...cur.slice(0, i + 1), out[i], ...cur.slice(i + 2)]);
  }
  return t;
}

/** Pad the end of each spatial dim so every tap of a window op (kernel k, stride s, out o) is in range. */
export function padForTaps(tf: TF, x: Tensor, kernel: number[], out: number[], strides: number[], value = 0): Tensor {
  const sizes = spatialOf(x);
  const extra = sizes.map((sz, i) => [0, Math.max(0, kernel[i] - 1 + out[i] * strides[i] - sz)] as [number, number]);
  return padSpatial(tf, x, extra, value);
}

/** Every tap offset of a window (C order). */
export function tapOffsets(kernel: number[]): number[][] {
  const out: number[][] = [[]];
  for (const k of kernel) {
    const next: number[][] = [];
    for (const o of out) for (let i = 0; i < k; i++) next.push([...o, i]);
    out.splice(0, out.length, ...next);
  }
  return out;
}

/** Kernel with (d-1) zeros between taps along each spatial axis: [...k, ci, co] -> [...((k-1)d+1), ci, co]. */
export function dilateKernel(w: WeightTensor, rank: number, dilation: number[]): WeightTensor {
  if (dilation.every((d) => d === 1)) return w;
  const k = w.shape.slice(0, rank);
  const inner = w.shape.slice(rank).reduce((a, b) => a * b, 1);
  const kd = k.map((s, i) => (s - 1) * dilation[i] + 1);
  const out = new Float32Array(kd.reduce((a, b) => a * b, 1) * inner);
  const idx = new Array<number>(rank).fill(0);
  const n = k.reduce((a, b) => a * b, 1);
  for (let t = 0; t < n; t++) {
    let src = 0;
    let dst = 0;
    for (let i = 0; i < rank; i++) {
      src = src * k[i] + idx[i];
      dst = dst * kd[i] + idx[i] * dilation[i];
    }
    out.set(w.data.subarray(src * inner, (src + 1) * inner), dst * inner);
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < k[i]) break;
      idx[i] = 0;
    }
  }
  return { shape: [...kd, ...w.shape.slice(rank)], data: out };
}

/**
 * Adjoint of stridedTap: put g ([N, ...out, C]) back at the cells the tap read, zeros elsewhere, in a
 * tensor of `fullShape` (the padded input's shape). Only pad and reshape.
 */
export function stridedTapAdjoint(tf: TF, g: Tensor, offsets: number[], out: number[], strides: number[], fullShape: number[]): Tensor {
  let t = g;
  for (let i = out.length - 1; i >= 0; i--) {
    const s = strides[i];
    if (s === 1) continue;
    const cur = t.shape as number[];
    const before = cur.slice(0, i + 1).reduce((a, b) => a * b, 1);
    const after = cur.slice(i + 2).reduce((a, b) => a * b, 1);
    const spread = tf.pad(tf.reshape(t, [before * out[i], 1, after]), [[0, 0], [0, s - 1], [0, 0]]);
    t = tf.reshape(spread, [...cur.slice(0, i + 1), out[i] * s, ...cur.slice(i + 2)]);
  }
  const pads: [number, number][] = offsets.map((o, i) => [o, fullShape[i + 1] - o - out[i] * strides[i]]);
  return padSpatial(tf, t, pads);
}

/**
 * `fast(...xs)` for the value, `grad(xs, dy)` for the vector-Jacobian products (one per input): where a
 * tfjs-wasm kernel is fast but its gradient kernel is missing or wrong (MaxPoolGrad with several
 * channels or samples, no depthwise-conv backprop). Every tensor the gradient needs must be an input,
 * so tfjs keeps it alive until the backward pass.
 */
export function withGradient(tf: TF, xs: Tensor[], fast: (xs: Tensor[]) => Tensor, grad: (xs: Tensor[], dy: Tensor) => Tensor[]): Tensor {
  const f = tf.customGrad(((...args: unknown[]) => {
    const inputs = args.slice(0, xs.length) as Tensor[];
    const save = args[xs.length] as (ts: Tensor[]) => void;
    save(inputs);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const gs = grad(saved, dy);
      return gs.length === 1 ? gs[0] : gs;
    };
    return { value: fast(inputs), gradFunc };
  }) as unknown as Parameters<TF['customGrad']>[0]);
  return (f as unknown as (...a: Tensor[]) => Tensor)(...xs);
}

/** Insert (s - 1) zeros between cells along each spatial axis of a channels-last tensor (pad and reshape only). */
export function zeroInsert(tf: TF, x: Tensor, strides: number[]): Tensor {
  let y = x;
  strides.forEach((s, i) => {
    if (s <= 1) return;
    const shape = y.shape;
    const axis = i + 1;
    const pre = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const d = shape[axis];
    const post = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const t = tf.pad(tf.reshape(y, [pre, d, 1, post]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
    const grown = [...shape];
    grown[axis] = d * s;
    const size = [...shape];
    size[axis] = (d - 1) * s + 1;
    y = tf.slice(tf.reshape(t, grown), shape.map(() => 0), size);
  });
  return y;
}

/** Pad (positive) or crop (negative) each spatial axis of a channels-last tensor by [before, after]. */
export function padOrCrop(tf: TF, x: Tensor, pads: [number, number][]): Tensor {
  let y = x;
  const crop = pads.map(([a, b]) => [Math.max(0, -a), Math.max(0, -b)]);
  if (crop.some(([a, b]) => a > 0 || b > 0)) {
    const begin = [0, ...crop.map(([a]) => a), 0];
    const size = y.shape.map((d, i) => (i === 0 || i === y.rank - 1 ? d : d - crop[i - 1][0] - crop[i - 1][1]));
    y = tf.slice(y, begin, size);
  }
  const pad = pads.map(([a, b]) => [Math.max(0, a), Math.max(0, b)] as [number, number]);
  return padSpatial(tf, y, pad);
}
