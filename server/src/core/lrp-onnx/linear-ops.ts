/**
 * The linear layers (Dense, Conv 1-3D with groups, DepthwiseConv 1-2D) as ONNX ops on channels-first tensors:
 * the IR's kernels in ONNX's layout, the forward op with any kernel, and its vector-Jacobian product
 * (ConvTranspose, or for stride 1 and four or more result channels a Conv with the flipped kernel, which
 * ORT's NCHWc kernels run faster; Gemm with transB for Dense). Kernels carry their dilation folded in
 * (lrp/linear.ts's LinearLayer), so every op here has dilation 1.
 */
import type { LinearLayer } from '../lrp/linear.js';
import type { LayerNodeOf } from '../model/graph.js';
import { LensError } from '../errors.js';
import { resolvePads } from '../model/kinds/common.js';
import type { GraphWriter } from './graph-writer.js';

export interface ConvGeometry {
  /** Spatial sizes of the input and output (static). */
  inSize: number[];
  outSize: number[];
  kSize: number[];
  strides: number[];
  pads: [number, number][];
  /** ONNX group attribute. */
  group: number;
}

/** Refusal: this layer cannot become an ONNX graph (the caller runs the tfjs engine). */
export function refuse(layer: string, reason: string): never {
  throw new LensError('LRP_UNSUPPORTED', `ONNX lowering: ${reason}`, { layer });
}

/** The geometry of a conv layer for an input of IR shape `inShape` (channels-last, batch first). */
export function convGeometry(layer: LinearLayer, inShape: (number | null)[], outShape: (number | null)[]): ConvGeometry {
  const node = layer.node as LayerNodeOf<'Conv'> | LayerNodeOf<'DepthwiseConv'>;
  const r = layer.rank;
  const inSize = inShape.slice(1, 1 + r);
  const outSize = outShape.slice(1, 1 + r);
  if ([...inSize, ...outSize].some((d) => d === null)) refuse(node.name, `layer ${node.name} has a symbolic spatial size`);
  const p = node.params;
  const pads = resolvePads(node, p.padding, inSize, node.weights.kernel.shape.slice(0, r), p.strides, p.dilation);
  const kSize = layer.kernel.shape.slice(0, r);
  const cin = inShape[inShape.length - 1] as number;
  const group = layer.kind === 'depthwise' ? cin : layer.kind === 'grouped' ? (node as LayerNodeOf<'Conv'>).params.groups : 1;
  return { inSize: inSize as number[], outSize: outSize as number[], kSize, strides: [...p.strides], pads, group };
}

/**
 * IR kernel data (the layer's layout, [...k, Cin/g, F], depthwise [...k, C, M], Dense [in, out]) -> ONNX
 * (Conv [F, Cin/g, ...k], depthwise [C*M, 1, ...k], Dense unchanged as Gemm's B).
 */
export function onnxKernel(layer: LinearLayer, data: Float32Array, cinView?: number, coutView?: number): { data: Float32Array; dims: number[] } {
  const shape = layer.kernel.shape;
  if (layer.kind === 'dense') return { data, dims: [cinView ?? shape[0], coutView ?? shape[1]] };
  const r = layer.rank;
  const k = shape.slice(0, r);
  const s = k.reduce((a, b) => a * b, 1);
  const a = cinView ?? shape[r];
  const b = coutView ?? shape[r + 1];
  const out = new Float32Array(data.length);
  if (layer.kind === 'depthwise') {
    // [S, C, M] -> [C*M, 1, S]
    for (let si = 0; si < s; si++) for (let c = 0; c < a; c++) for (let m = 0; m < b; m++) out[(c * b + m) * s + si] = data[(si * a + c) * b + m];
    return { data: out, dims: [a * b, 1, ...k] };
  }
  // [S, A, B] -> [B, A, S]
  for (let si = 0; si < s; si++) for (let i = 0; i < a; i++) for (let f = 0; f < b; f++) out[(f * a + i) * s + si] = data[(si * a + i) * b + f];
  return { data: out, dims: [b, a, ...k] };
}

export function convPads(g: ConvGeometry): number[] {
  return [...g.pads.map((p) => p[0]), ...g.pads.map((p) => p[1])];
}

/** f(x; K) (+ bias): Conv or Gemm. `kernel` is an ONNX-layout initializer. */
export function linearForward(w: GraphWriter, layer: LinearLayer, g: ConvGeometry | undefined, x: string, kernel: string, bias?: string): string {
  if (layer.kind === 'dense') return w.o('Gemm', bias ? [x, kernel, bias] : [x, kernel], {}, 'dense');
  return w.o('Conv', bias ? [x, kernel, bias] : [x, kernel], { pads: convPads(g!), strides: g!.strides, group: g!.group }, 'conv');
}

/**
 * J_K^T dy for a kernel of ONNX dims `dims` ([Cout_total, Cin_total/group, ...k], the forward's layout),
 * giving [N, Cin_total, ...inSize].
 */
export function linearVjp(w: GraphWriter, layer: LinearLayer, g: ConvGeometry | undefined, dy: string, kernel: { data: Float32Array; dims: number[] }): string {
  if (layer.kind === 'dense') return w.o('Gemm', [dy, w.floats('vjp_k', kernel.data, kernel.dims)], { transB: 1 }, 'dense_vjp');
  const geo = g!;
  const cinTotal = kernel.dims[1] * geo.group;
  const flippedOk = geo.group === 1 && geo.strides.every((s) => s === 1) && cinTotal >= 4;
  if (flippedOk) {
    const before = geo.kSize.map((k, i) => k - 1 - geo.pads[i][0]);
    const after = geo.kSize.map((k, i) => geo.inSize[i] - geo.outSize[i] + k - 1 - before[i]);
    if ([...before, ...after].every((v) => v >= 0)) {
      const fk = flipTranspose(kernel.data, kernel.dims);
      return w.o('Conv', [dy, w.floats('vjp_flip', fk.data, fk.dims)], { pads: [...before, ...after] }, 'conv_vjp');
    }
  }
  return transposeVjp(w, geo, dy, w.floats('vjp_k', kernel.data, kernel.dims));
}

/**
 * ConvTranspose as the VJP of a conv of geometry `geo` (kernel initializer in the forward's ONNX layout):
 * out = s (Ho - 1) + K - pb - pe, with pe chosen to give the input size and zeros appended where the input
 * has cells after the last window.
 */
export function transposeVjp(w: GraphWriter, geo: ConvGeometry, dy: string, kernel: string): string {
  const r = geo.kSize.length;
  const pb = geo.pads.map((p) => p[0]);
  const pe = geo.kSize.map((k, i) => geo.strides[i] * (geo.outSize[i] - 1) + k - pb[i] - geo.inSize[i]);
  const extra = pe.map((v) => Math.max(0, -v));
  const y = w.o('ConvTranspose', [dy, kernel], { pads: [...pb, ...pe.map((v) => Math.max(0, v))], strides: geo.strides, group: geo.group }, 'convT_vjp');
  if (extra.every((v) => v === 0)) return y;
  const pads = [0, 0, ...Array(r).fill(0), 0, 0, ...extra];
  return w.o('Pad', [y, w.ints('pads', pads)], {}, 'vjp_pad');
}

/** [A, B, ...k] -> [B, A, ...k] flipped in space (the stride-1 VJP as a correlation). */
function flipTranspose(data: Float32Array, dims: number[]): { data: Float32Array; dims: number[] } {
  const [a, b, ...k] = dims;
  const s = k.reduce((x, y) => x * y, 1);
  const out = new Float32Array(data.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let t = 0; t < s; t++) out[(j * a + i) * s + (s - 1 - t)] = data[(i * b + j) * s + t];
  return { data: out, dims: [b, a, ...k] };
}
