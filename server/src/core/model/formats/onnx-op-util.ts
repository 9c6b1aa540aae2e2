/**
 * Shared pieces of the ONNX op translations: the per-node context, window attributes (kernel, strides,
 * pads, auto_pad) in ONNX semantics, per-channel constants, and conv weight layout conversions.
 */
import type { Padding, Shape, WeightTensor } from '../graph.js';
import type { Act, Builder } from './onnx-build.js';
import { Attrs, type ConstValue, type NodeProto, constNumbers } from './onnx-proto.js';
import { windowOut } from '../kinds/common.js';

export interface OpContext {
  opset: number;
  /** Live consumers per ONNX value (graph outputs count as one). */
  uses: Map<string, number>;
  graphOutputs: Set<string>;
  /** The batch size the first input declares (a Reshape to it keeps the batch), or null. */
  fileBatch: number | null;
}

export type Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => void;

// ---------------------------------------------------------------- helpers

export function outName(n: NodeProto, i = 0): string {
  return n.output?.[i] ?? '';
}

export function setAct(b: Builder, n: NodeProto, a: Act, i = 0): void {
  b.values.set(outName(n, i), { a });
}

/** Refuse a node whose secondary outputs (MaxPool indices, Dropout mask, ...) something reads. */
export function onlyFirstOutput(n: NodeProto, name: string, b: Builder, ctx: OpContext): void {
  (n.output ?? []).slice(1).forEach((o) => {
    if (o && (ctx.uses.get(o) ?? 0) > 0) b.fail('UNSUPPORTED_CONFIG', `node ${name} (${n.opType}): its output "${o}" is used, only the first output is supported`, name);
  });
}

export function product(dims: Shape): number | null {
  let p = 1;
  for (const d of dims) {
    if (d === null) return null;
    p *= d;
  }
  return p;
}

export function normAxis(b: Builder, axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) b.fail('GRAPH_INVALID', `node ${where}: axis ${axis} is out of range for rank ${rank}`, where);
  return a;
}

/** IR axis for an ONNX axis of `a`, negative (from the end) when it is the last one. */
export function irAxis(a: Act, onnxAxis: number): number {
  const i = a.axes.indexOf(onnxAxis);
  return i === a.axes.length - 1 ? -1 : i;
}

export interface Window {
  kernel: number[];
  strides: number[];
  dilation: number[];
  padding: Padding;
  /** [before, after] used for this loader's shape tracking. */
  pads: [number, number][];
}

/** kernel/strides/dilations/pads/auto_pad of Conv and pooling nodes. */
export function windowAttrs(b: Builder, attrs: Attrs, kernel: number[], spatial: Shape, name: string, allowDilation: boolean): Window {
  const r = kernel.length;
  const strides = attrs.ints('strides') ?? kernel.map(() => 1);
  const dilation = attrs.ints('dilations') ?? kernel.map(() => 1);
  if (strides.length !== r || dilation.length !== r) b.fail('UNSUPPORTED_CONFIG', `node ${name}: strides/dilations do not match the kernel rank ${r}`, name);
  if ([...kernel, ...strides, ...dilation].some((v) => !Number.isInteger(v) || v < 1 || v > 1 << 20)) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: kernel, strides and dilations must be positive integers`, name);
  }
  if (!allowDilation && dilation.some((d) => d !== 1)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: dilated pooling is not supported`, name);
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  const samePads = (lowerExtra: boolean): [number, number][] =>
    spatial.map((sz, i) => {
      if (sz === null) b.fail('UNSUPPORTED_CONFIG', `node ${name}: auto_pad ${autoPad} needs known spatial sizes`, name);
      const out = Math.ceil(sz / strides[i]);
      const total = Math.max((out - 1) * strides[i] + (kernel[i] - 1) * dilation[i] + 1 - sz, 0);
      const small = Math.floor(total / 2);
      return lowerExtra ? [total - small, small] : [small, total - small];
    });
  switch (autoPad) {
    case 'VALID':
      return { kernel, strides, dilation, padding: { mode: 'valid', pads: kernel.map(() => [0, 0]) }, pads: kernel.map(() => [0, 0]) };
    case 'SAME_UPPER': {
      // TF 'same' puts the odd cell after, as SAME_UPPER does.
      const pads = spatial.every((s) => s !== null) ? samePads(false) : kernel.map(() => [0, 0] as [number, number]);
      return { kernel, strides, dilation, padding: { mode: 'same', pads: [] }, pads };
    }
    case 'SAME_LOWER': {
      const pads = samePads(true);
      return { kernel, strides, dilation, padding: { mode: 'explicit', pads }, pads };
    }
    case 'NOTSET':
    case '': {
      const p = attrs.ints('pads') ?? new Array(2 * r).fill(0);
      if (p.length !== 2 * r || p.some((v) => !Number.isInteger(v) || v < 0 || v > 1 << 20)) {
        b.fail('UNSUPPORTED_CONFIG', `node ${name}: pads ${JSON.stringify(p)} must be ${2 * r} non-negative integers`, name);
      }
      const pads = kernel.map((_, i) => [p[i], p[i + r]] as [number, number]);
      const zero = pads.every(([x, y]) => x === 0 && y === 0);
      return { kernel, strides, dilation, padding: zero ? { mode: 'valid', pads } : { mode: 'explicit', pads }, pads };
    }
    default:
      return b.fail('UNSUPPORTED_CONFIG', `node ${name}: auto_pad ${autoPad} is not supported`, name);
  }
}

export function spatialOut(x: Act, w: Window, ceil: boolean): Shape {
  const spatial = x.shape.slice(2);
  return spatial.map((s, i) =>
    w.padding.mode === 'same' ? (s === null ? null : Math.ceil(s / w.strides[i])) : windowOut(s, w.pads[i], w.kernel[i], w.strides[i], w.dilation[i], ceil),
  );
}

/** A constant as a per-channel vector along `a`'s IR last axis (scalar broadcast), or undefined. */
export function perChannel(a: Act, c: ConstValue): Float32Array | undefined {
  const r = a.shape.length;
  if (c.dims.length > r) return undefined;
  const dims = [...new Array(r - c.dims.length).fill(1), ...c.dims];
  const ch = a.axes[r - 1];
  const C = a.shape[ch];
  if (C === null) return undefined;
  if (dims.some((d, i) => i !== ch && d !== 1)) return undefined;
  if (dims[ch] !== 1 && dims[ch] !== C) return undefined;
  const vals = constNumbers(c);
  if (!vals) return undefined;
  const out = new Float32Array(C);
  for (let i = 0; i < C; i++) out[i] = vals.length === 1 ? vals[0] : vals[i];
  return out;
}

export function weight(shape: number[], data: Float32Array): WeightTensor {
  return { shape, data };
}

/** [O, I, k...] -> [k..., I, O]. */
export function oihwToHwio(w: ConstValue, f: Float32Array): WeightTensor {
  const [O, I, ...k] = w.dims;
  const K = k.reduce((a, b) => a * b, 1);
  const out = new Float32Array(f.length);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let s = 0; s < K; s++) out[(s * I + i) * O + o] = f[(o * I + i) * K + s];
  return weight([...k, I, O], out);
}

/** Depthwise: [C*m, 1, k...] -> [k..., C, m] (output channel c*m + j). */
export function oihwToDepthwise(w: ConstValue, f: Float32Array, C: number): WeightTensor {
  const [O, , ...k] = w.dims;
  const m = O / C;
  const K = k.reduce((a, b) => a * b, 1);
  const out = new Float32Array(f.length);
  for (let o = 0; o < O; o++) for (let s = 0; s < K; s++) out[s * O + o] = f[o * K + s];
  return weight([...k, C, m], out);
}

