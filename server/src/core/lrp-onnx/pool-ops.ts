/**
 * Pooling as ONNX ops on channels-first tensors, forward and relevance:
 * - max pooling, gradient rule (winner-take-all): MaxPool with its Indices output, and MaxUnpool of the
 *   relevance into the input's shape (its output_shape input: 89 -> 44 would drop a row otherwise). Ties go
 *   to the first maximum in row-major order, as ORT's MaxPool picks them and the tfjs engine routes them.
 *   Overlapping windows are refused (MaxUnpool writes, the gradient would add).
 * - average pooling, norm rule: a depthwise sum (Conv with a ones kernel) divided by a constant count map
 *   (cells the framework counts per window, kinds/pool.ts's convention), and its VJP a ConvTranspose.
 * - global pooling: max as a MaxPool over the whole field; average as ReduceMean, relevance x * d / size.
 */
import type { LayerNodeOf } from '../model/graph.js';
import type { Stabilizer } from '../lrp/rules.js';
import { poolGeometry } from '../model/kinds/pool.js';
import type { GraphWriter } from './graph-writer.js';
import { type ConvGeometry, convPads, refuse, transposeVjp } from './linear-ops.js';
import { stabilizeOnnx } from './linear-rule-ops.js';

type PoolNode = LayerNodeOf<'Pool'>;
type GlobalNode = LayerNodeOf<'GlobalPool'>;

export interface PoolForward {
  y: string;
  /** MaxPool's Indices, where the backward routes by them. */
  indices?: string;
  /** Average pooling: the pooled sum's divisor and geometry. */
  avg?: { geo: ConvGeometry; count: string; channels: number; z: string };
}

function staticSpatial(node: { name: string }, shape: (number | null)[]): number[] {
  const s = shape.slice(1, -1);
  if (s.some((d) => d === null)) refuse(node.name, `layer ${node.name} has a symbolic spatial size`);
  return s as number[];
}

/** Average-pool geometry with the ceil-mode overhang as extra end padding (zeros: the sum is unchanged). */
function avgGeometry(node: PoolNode, spatial: number[], channels: number): { geo: ConvGeometry; count: Float32Array } {
  const p = node.params;
  const { pads, extra, out } = poolGeometry(node, spatial);
  const geo: ConvGeometry = {
    inSize: spatial,
    outSize: out,
    kSize: [...p.poolSize],
    strides: [...p.strides],
    pads: pads.map((q, i) => [q[0], q[1] + extra[i]]),
    group: channels,
  };
  // Cells counted per window: inside the input, plus the padding when countIncludePad (never the overhang).
  const perDim = out.map((o, d) =>
    Array.from({ length: o }, (_, i) => {
      const start = i * p.strides[d] - pads[d][0];
      const end = start + p.poolSize[d];
      const lo = p.countIncludePad ? -pads[d][0] : 0;
      const hi = p.countIncludePad ? spatial[d] + pads[d][1] : spatial[d];
      return Math.max(0, Math.min(end, hi) - Math.max(start, lo));
    }),
  );
  const total = out.reduce((a, b) => a * b, 1);
  const count = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    let rem = i;
    let c = 1;
    for (let d = out.length - 1; d >= 0; d--) {
      c *= perDim[d][rem % out[d]];
      rem = Math.floor(rem / out[d]);
    }
    count[i] = Math.max(c, 1);
  }
  return { geo, count };
}

export function poolForward(w: GraphWriter, node: PoolNode, x: string, inShape: (number | null)[], routeMax: boolean, asAvg: boolean): PoolForward {
  const p = node.params;
  const spatial = staticSpatial(node, inShape);
  const channels = inShape[inShape.length - 1] as number;
  if (p.op === 'max' && !asAvg) {
    const { pads } = poolGeometry(node, spatial);
    const attrs = { kernel_shape: p.poolSize, strides: p.strides, pads: [...pads.map((q) => q[0]), ...pads.map((q) => q[1])], ceil_mode: p.ceilMode ? 1 : 0 };
    if (!routeMax) return { y: w.o('MaxPool', [x], attrs, 'maxpool') };
    if (p.strides.some((s, i) => s < p.poolSize[i])) refuse(node.name, `max pooling ${node.name} has overlapping windows (strides ${p.strides} < size ${p.poolSize})`);
    const [y, indices] = w.op('MaxPool', [x], attrs, 'maxpool', 2);
    return { y, indices };
  }
  // Average pooling (or max pooling routed like it: the average without the padding).
  const n = p.op === 'max' ? ({ ...node, params: { ...p, countIncludePad: false } } as PoolNode) : node;
  const { geo, count } = avgGeometry(n, spatial, channels);
  const ones = new Float32Array(channels * p.poolSize.reduce((a, b) => a * b, 1)).fill(1);
  const k = w.floats('pool_ones', ones, [channels, 1, ...p.poolSize]);
  const sum = w.o('Conv', [x, k], { pads: convPads(geo), strides: geo.strides, group: channels }, 'pool_sum');
  const cnt = w.floats('pool_count', count, [1, 1, ...geo.outSize]);
  const z = w.o('Div', [sum, cnt], {}, 'avgpool');
  // Max pooling routed like average pooling keeps its max as the output and divides by the average.
  const y = p.op === 'max' ? poolForward(w, node, x, inShape, false, false).y : z;
  return { y, avg: { geo, count: cnt, channels, z } };
}

/** Relevance at a pool's input: winner routing (gradient) or the proportional rule (norm). */
export function poolRelevance(w: GraphWriter, node: PoolNode, fwd: PoolForward, x: string, inShape: (number | null)[], r: string, norm?: Stabilizer): string {
  if (fwd.indices) {
    const shape = w.o('Shape', [x], {}, 'x_shape');
    const p = node.params;
    // MaxUnpool checks output_shape against (out - 1) s + k - pads: the pads, plus the ceil-mode overhang.
    const spatial = staticSpatial(node, inShape);
    const { pads, extra } = poolGeometry(node, spatial);
    const attrs = { kernel_shape: p.poolSize, strides: p.strides, pads: [...pads.map((q) => q[0]), ...pads.map((q, i) => q[1] + extra[i])] };
    return w.o('MaxUnpool', [r, fwd.indices, shape], attrs, 'unpool');
  }
  if (!fwd.avg) refuse(node.name, `max pooling ${node.name} without winner routing or the norm rule`);
  const a = fwd.avg;
  const rank = node.params.rank + 2;
  const d = norm ? w.o('Div', [r, stabilizeOnnx(w, a.z, norm, rank)], {}, 'd') : w.o('Div', [r, a.z]);
  const dc = w.o('Div', [d, a.count], {}, 'd_count');
  const ones = new Float32Array(a.channels * node.params.poolSize.reduce((s, b) => s * b, 1)).fill(1);
  const v = transposeVjp(w, a.geo, dc, w.floats('pool_ones_t', ones, [a.channels, 1, ...node.params.poolSize]));
  return w.o('Mul', [x, v], {}, 'r_pool');
}

export interface GlobalForward {
  y: string;
  /** keepDims=false: y is [N, C] and the pooled field [N, C, 1...] is `field`. */
  field: string;
  indices?: string;
}

export function globalPoolForward(w: GraphWriter, node: GlobalNode, x: string, inShape: (number | null)[], routeMax: boolean): GlobalForward {
  const spatial = staticSpatial(node, inShape);
  const rank = inShape.length;
  let field: string;
  let indices: string | undefined;
  if (node.params.op === 'max') {
    const attrs = { kernel_shape: spatial };
    if (routeMax) [field, indices] = w.op('MaxPool', [x], attrs, 'gmaxpool', 2);
    else field = w.o('MaxPool', [x], attrs, 'gmaxpool');
  } else field = w.o('ReduceMean', [x], { axes: Array.from({ length: rank - 2 }, (_, i) => i + 2), keepdims: 1 }, 'gavgpool');
  const y = node.params.keepDims ? field : w.o('Reshape', [field, w.ints('shape', [0, -1])], {}, 'gpool_flat');
  return { y, field, indices };
}

export function globalPoolRelevance(w: GraphWriter, node: GlobalNode, fwd: GlobalForward, x: string, inShape: (number | null)[], r: string, norm?: Stabilizer): string {
  const rank = inShape.length;
  const rf = node.params.keepDims ? r : w.o('Reshape', [r, w.ints('shape', [0, -1, ...Array(rank - 2).fill(1)])], {}, 'r_field');
  if (fwd.indices) return w.o('MaxUnpool', [rf, fwd.indices, w.o('Shape', [x])], { kernel_shape: staticSpatial(node, inShape) }, 'gunpool');
  if (node.params.op === 'max') refuse(node.name, `global max pooling ${node.name} routed like average pooling is not lowered`);
  const size = staticSpatial(node, inShape).reduce((a, b) => a * b, 1);
  const d = norm ? w.o('Div', [rf, stabilizeOnnx(w, fwd.field, norm, rank)], {}, 'd') : w.o('Div', [rf, fwd.field]);
  return w.o('Mul', [x, w.o('Mul', [d, w.scalar(1 / size)])], {}, 'r_gpool');
}
