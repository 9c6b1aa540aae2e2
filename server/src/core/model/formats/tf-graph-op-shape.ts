/**
 * Shape and data-movement TF ops -> IR: Reshape, Squeeze, ExpandDims (all as IR Reshape), ConcatV2,
 * Pad/PadV2 (zeros), Transpose (Permute), Identity, whole-factor resizes (UpSampling); and constant folding of the shape subgraphs the
 * converter leaves (Shape of an activation with the batch as NaN, StridedSlice, Pack, Prod, Cast,
 * ConcatV2 of constants), so a Reshape fed by them gets a static target.
 */
import type { Shape } from '../graph.js';
import { type Act, type ConstT, type Handler, type Importer, type TfNode, type Value, CONVERT_HINT, attrB, attrI, attrInts, dataRefs, normAxis, perSample } from './tf-graph-util.js';

/** IR Reshape of `x` to a per-sample shape (at most one unknown dim); none when it changes nothing. */
function reshapeTo(g: Importer, n: TfNode, x: Act, target: Shape): Value {
  const same = target.length === x.shape.length - 1 && target.every((d, i) => d === x.shape[i + 1]);
  if (same) return g.pass(n, x, false);
  if (target.filter((d) => d === null).length > 1) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) reshapes to a shape with several unknown sizes`, n.name, CONVERT_HINT);
  const targetShape = target.map((d) => d ?? -1);
  return { a: g.emit('Reshape', n.name, [x], { targetShape }, { className: n.op, owner: n.name }) };
}

export const identity: Handler = (g, n) => {
  const v = g.input(n, 0);
  if (v.c) return v;
  // Identity hands the fold rights on when it is the only reader of its input.
  return g.pass(n, v.a, g.foldTarget(n, 0, v.a) !== undefined);
};

export const reshape: Handler = (g, n) => {
  const x = g.act(n, 0);
  const t = g.ints(n, 1, 'target shape');
  const total = perSample(x.shape);
  if (t.length === 0) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (Reshape) reshapes to a scalar, which would merge the batch`, n.name);
  const rest = t.slice(1);
  if (rest.some((d) => Number.isNaN(d))) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (Reshape): its target shape depends on run-time sizes other than the batch`, n.name, CONVERT_HINT);
  const b = t[0];
  const batchOk = Number.isNaN(b) || (b === -1 && !rest.includes(-1)) || (b > 0 && !rest.includes(-1) && total !== null && total === rest.reduce((p, q) => p * q, 1));
  if (!batchOk) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (Reshape) to [${t.map((d) => (Number.isNaN(d) ? '?' : d))}] does not keep the batch dimension first`, n.name, CONVERT_HINT);
  return reshapeTo(g, n, x, rest.map((d) => (d === -1 ? null : d)));
};

export const squeeze: Handler = (g, n) => {
  const x = g.act(n, 0);
  const r = x.shape.length;
  const dims = (attrInts(n, 'squeeze_dims') ?? attrInts(n, 'axis') ?? []).map((d) => normAxis(d, r));
  if (dims.some((d) => d === undefined || d === 0)) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (Squeeze) squeezes the batch axis or an axis out of range`, n.name);
  const drop = new Set(dims.length ? dims : x.shape.map((d, i) => (i > 0 && d === 1 ? i : -1)).filter((i) => i > 0));
  for (const d of drop) if (x.shape[d as number] !== 1) g.fail('SHAPE_MISMATCH', `node ${n.name} (Squeeze): axis ${d} of ${JSON.stringify(x.shape)} is not 1`, n.name);
  return reshapeTo(g, n, x, x.shape.slice(1).filter((_, i) => !drop.has(i + 1)));
};

export const expandDims: Handler = (g, n) => {
  const x = g.act(n, 0);
  const [axis] = g.ints(n, 1, 'axis');
  const a = normAxis(axis, x.shape.length + 1);
  if (a === undefined || a === 0) return g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (ExpandDims) inserts axis ${axis}, before the batch or out of range`, n.name);
  const out = [...x.shape];
  out.splice(a, 0, 1);
  return reshapeTo(g, n, x, out.slice(1));
};

export const transpose: Handler = (g, n) => {
  const x = g.act(n, 0);
  const perm = g.ints(n, 1, 'permutation');
  const r = x.shape.length;
  if (perm.length !== r || perm[0] !== 0 || [...perm].sort((a, b) => a - b).some((v, i) => v !== i)) {
    g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (Transpose) permutation ${JSON.stringify(perm)} must keep the batch axis first`, n.name);
  }
  if (perm.every((v, i) => v === i)) return g.pass(n, x, false);
  return { a: g.emit('Permute', n.name, [x], { dims: perm.slice(1) }, { className: n.op, owner: n.name }) };
};

export const concat: Handler = (g, n) => {
  const refs = dataRefs(n.input);
  const count = refs.length - 1;
  if (count < 1) g.fail('GRAPH_INVALID', `node ${n.name} (ConcatV2) has no inputs to join`, n.name);
  const [axis] = g.ints(n, count, 'axis');
  const vals = Array.from({ length: count }, (_, i) => g.input(n, i));
  if (vals.every((v) => v.c)) {
    const cs = vals.map((v) => v.c as ConstT);
    if (cs.some((c) => c.shape.length > 1) || (axis !== 0 && axis !== -1)) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (ConcatV2) of constants: only 1-D constants are folded`, n.name);
    const data = Float32Array.from(cs.flatMap((c) => Array.from(c.data)));
    return { c: { shape: [data.length], data } };
  }
  if (vals.some((v) => v.c)) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (ConcatV2) joins computed tensors with constants, which is not supported`, n.name, CONVERT_HINT);
  const acts = vals.map((v) => v.a as Act);
  const a = normAxis(axis, acts[0].shape.length);
  if (a === undefined || a === 0) return g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (ConcatV2) joins along axis ${axis}, the batch or out of range`, n.name);
  if (acts.length === 1) return g.pass(n, acts[0], false);
  return { a: g.emit('Concatenate', n.name, acts, { axis: a }, { className: n.op, owner: n.name }) };
};

export const pad: Handler = (g, n) => {
  const x = g.act(n, 0);
  const p = g.ints(n, 1, 'paddings');
  const r = x.shape.length;
  if (n.op === 'PadV2') {
    const c = g.const(n, 2, 'constant value');
    if (c.data.some((v) => v !== 0)) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (PadV2) pads with a non-zero value`, n.name, CONVERT_HINT);
  }
  if (p.length !== 2 * r || r < 3 || r > 5 || p.some((v) => !Number.isInteger(v) || v < 0)) {
    g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}): paddings ${JSON.stringify(p)} must be [${r}, 2] non-negative values on a rank 3-5 tensor`, n.name);
  }
  if (p[0] || p[1] || p[2 * r - 2] || p[2 * r - 1]) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) pads the batch or channel axis; only spatial padding is supported`, n.name);
  const pads = Array.from({ length: r - 2 }, (_, i): [number, number] => [p[2 * i + 2], p[2 * i + 3]]);
  return { a: g.emit('ZeroPadding', n.name, [x], { rank: (r - 2) as 1 | 2 | 3, pads }, { className: n.op, owner: n.name }) };
};

// ---- constant folding of shape computations -----------------------------------------------------

export const shapeOf: Handler = (g, n) => {
  const v = g.input(n, 0);
  const s = v.a ? v.a.shape.map((d) => d ?? NaN) : (v.c as ConstT).shape;
  return { c: { shape: [s.length], data: Float32Array.from(s) } };
};

export const stridedSlice: Handler = (g, n) => {
  const c = g.const(n, 0, 'input');
  if (c.shape.length !== 1) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (StridedSlice) on a computed tensor or a constant of rank ${c.shape.length}; only 1-D constants (shapes) are folded`, n.name, CONVERT_HINT);
  if (attrI(n, 'ellipsis_mask', 0) || attrI(n, 'new_axis_mask', 0)) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (StridedSlice) uses ellipsis or new-axis masks`, n.name, CONVERT_HINT);
  const [begin] = g.ints(n, 1, 'begin');
  const [end] = g.ints(n, 2, 'end');
  const [stride] = g.ints(n, 3, 'strides');
  if (!stride) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (StridedSlice) has stride 0`, n.name);
  const len = c.shape[0];
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const norm = (v: number) => (v < 0 ? v + len : v);
  if ((attrI(n, 'shrink_axis_mask', 0) as number) & 1) {
    const i = norm(begin);
    if (i < 0 || i >= len) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (StridedSlice) index ${begin} is out of range`, n.name);
    return { c: { shape: [], data: Float32Array.of(c.data[i]) } };
  }
  const fwd = stride > 0;
  let b = (attrI(n, 'begin_mask', 0) as number) & 1 ? (fwd ? 0 : len - 1) : fwd ? clamp(norm(begin), 0, len) : clamp(norm(begin), -1, len - 1);
  const e = (attrI(n, 'end_mask', 0) as number) & 1 ? (fwd ? len : -1) : fwd ? clamp(norm(end), 0, len) : clamp(norm(end), -1, len - 1);
  const out: number[] = [];
  for (; fwd ? b < e : b > e; b += stride) out.push(c.data[b]);
  return { c: { shape: [out.length], data: Float32Array.from(out) } };
};

export const pack: Handler = (g, n) => {
  const refs = dataRefs(n.input);
  const cs = refs.map((_, i) => g.const(n, i, `value ${i}`));
  if ((attrI(n, 'axis', 0) as number) !== 0 || cs.some((c) => c.shape.length !== 0)) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (Pack): only stacking scalars along axis 0 is folded`, n.name, CONVERT_HINT);
  return { c: { shape: [cs.length], data: Float32Array.from(cs.map((c) => c.data[0])) } };
};

export const prod: Handler = (g, n) => {
  const c = g.const(n, 0, 'input');
  if (c.shape.length > 1) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (Prod): only 1-D constants are folded`, n.name, CONVERT_HINT);
  const p = c.data.reduce((a, b) => a * b, 1);
  return { c: { shape: attrB(n, 'keep_dims') ? [1] : [], data: Float32Array.of(p) } };
};

const INT_TYPES = new Set(['DT_INT32', 'DT_INT64', 'DT_INT16', 'DT_INT8', 'DT_UINT8', 'DT_UINT16', 'DT_BOOL']);

export const cast: Handler = (g, n) => {
  const v = g.input(n, 0);
  const to = n.attr.DstT?.type ?? 'DT_FLOAT';
  if (v.c) return INT_TYPES.has(to) ? { c: { shape: v.c.shape, data: v.c.data.map((t) => (Number.isNaN(t) ? t : Math.trunc(t))) } } : v;
  if (INT_TYPES.has(to)) g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (Cast) turns the tensor into ${to}; integer tensors cannot carry relevance`, n.name, CONVERT_HINT);
  return g.pass(n, v.a, false);
};

/** ResizeNearestNeighbor / ResizeBilinear by whole factors (Keras UpSampling2D as TF writes it). */
export const resize: Handler = (g, n) => {
  const x = g.act(n, 0);
  const size = g.ints(n, 1, 'size');
  const h = x.shape[1] ?? 0;
  const w = x.shape[2] ?? 0;
  if (x.shape.length !== 4 || size.length !== 2 || h < 1 || w < 1 || size[0] % h !== 0 || size[1] % w !== 0 || size[0] < h || size[1] < w) {
    g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) resizes ${JSON.stringify(x.shape)} to ${JSON.stringify(size)}; only whole-factor upsampling of known sizes is supported`, n.name, CONVERT_HINT);
  }
  const bilinear = n.op === 'ResizeBilinear';
  if (attrB(n, 'align_corners') || (bilinear && !attrB(n, 'half_pixel_centers'))) {
    g.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) uses align_corners or legacy pixel centres; only half-pixel centres (TF 2, Keras UpSampling2D) are supported`, n.name, CONVERT_HINT);
  }
  const factors = [size[0] / h, size[1] / w];
  if (factors.every((k) => k === 1)) return g.pass(n, x, false);
  return { a: g.emit('UpSampling', n.name, [x], { rank: 2, size: factors, interpolation: bilinear ? 'bilinear' : 'nearest' }, { className: n.op, owner: n.name }) };
};
