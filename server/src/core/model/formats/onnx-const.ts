/**
 * A small constant evaluator for the shape arithmetic exporters write (Shape -> Gather -> Unsqueeze ->
 * Concat -> Reshape, Constant, Cast, Slice, ...). Integer values may hold the symbolic batch size 'N'
 * or an unknown '?', so a flatten written as Reshape(x, [batch, -1]) is still recognised.
 */
import { LensError } from '../../errors.js';
import { Attrs, type ConstValue, type NodeProto, type Sym, checkedSize, constNumbers } from './onnx-proto.js';

type Elem = number | 'N' | '?';

/** Computed constants are shape arithmetic and small tensors; a tiny file must not make us allocate much. */
const MAX_EVAL_ELEMENTS = 1 << 22;

function evalSize(dims: number[], where: string): number {
  const n = checkedSize(dims, 'computed constant', '');
  if (n > MAX_EVAL_ELEMENTS) {
    throw new LensError('SHAPE_LIMIT', `node ${where} computes a constant of ${dims.join('x')} elements at load time, more than ${MAX_EVAL_ELEMENTS}`, { layer: where });
  }
  return n;
}

function elems(c: ConstValue): Elem[] {
  return c.float ? Array.from(c.float) : c.ints!;
}

function make(dims: number[], values: Elem[], isFloat: boolean): ConstValue {
  if (isFloat) return { dims, float: Float32Array.from(values as number[]) };
  return { dims, ints: values as Sym[] };
}

function stridesOf(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

function normAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new LensError('GRAPH_INVALID', `axis ${axis} out of range for rank ${rank}`, { layer: where });
  return a;
}

/** Build an output by mapping each output multi-index to an input flat index. */
function mapIndex(outDims: number[], src: Elem[], isFloat: boolean, fn: (idx: number[]) => number): ConstValue {
  // Rearranging (Transpose, Slice of a weight) is bounded by the file; growing (Gather with repeats) is capped.
  const n = checkedSize(outDims, 'computed constant', '');
  if (n > src.length) evalSize(outDims, 'constant');
  const out: Elem[] = new Array(n);
  const idx = new Array<number>(outDims.length).fill(0);
  for (let i = 0; i < n; i++) {
    out[i] = src[fn(idx)];
    for (let d = outDims.length - 1; d >= 0; d--) {
      if (++idx[d] < outDims[d]) break;
      idx[d] = 0;
    }
  }
  return make(outDims, out, isFloat);
}

function broadcastDims(a: number[], b: number[], where: string): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new LensError('SHAPE_MISMATCH', `cannot broadcast ${a.join('x')} with ${b.join('x')}`, { layer: where });
    out.push(da === 1 ? db : da);
  }
  return out;
}

function broadcastIndex(dims: number[], outDims: number[]): (idx: number[]) => number {
  const st = stridesOf(dims);
  const off = outDims.length - dims.length;
  return (idx) => {
    let f = 0;
    for (let i = 0; i < dims.length; i++) f += (dims[i] === 1 ? 0 : idx[i + off]) * st[i];
    return f;
  };
}

function binary(op: string, a: ConstValue, b: ConstValue, where: string): ConstValue {
  const outDims = broadcastDims(a.dims, b.dims, where);
  const ia = broadcastIndex(a.dims, outDims);
  const ib = broadcastIndex(b.dims, outDims);
  const ea = elems(a);
  const eb = elems(b);
  const isFloat = !!(a.float || b.float);
  const n = evalSize(outDims, where);
  const out: Elem[] = new Array(n);
  const idx = new Array<number>(outDims.length).fill(0);
  for (let i = 0; i < n; i++) {
    const x = ea[ia(idx)];
    const y = eb[ib(idx)];
    if (typeof x !== 'number' || typeof y !== 'number') {
      out[i] = '?';
    } else {
      let v: number;
      switch (op) {
        case 'Add': v = x + y; break;
        case 'Sub': v = x - y; break;
        case 'Mul': v = x * y; break;
        case 'Div': v = isFloat ? x / y : y === 0 ? 0 : Math.trunc(x / y); break;
        case 'Max': v = Math.max(x, y); break;
        case 'Min': v = Math.min(x, y); break;
        case 'Pow': v = x ** y; break;
        case 'Equal': v = x === y ? 1 : 0; break;
        default: throw new Error(op);
      }
      out[i] = v;
    }
    for (let d = outDims.length - 1; d >= 0; d--) {
      if (++idx[d] < outDims[d]) break;
      idx[d] = 0;
    }
  }
  return make(outDims, out, isFloat);
}

function unary(op: string, a: ConstValue): ConstValue {
  const f = (x: number): number => {
    switch (op) {
      case 'Neg': return -x;
      case 'Sqrt': return Math.sqrt(x);
      case 'Reciprocal': return 1 / x;
      case 'Abs': return Math.abs(x);
      case 'Floor': return Math.floor(x);
      case 'Ceil': return Math.ceil(x);
      case 'Exp': return Math.exp(x);
      default: throw new Error(op);
    }
  };
  return make(a.dims, elems(a).map((x) => (typeof x === 'number' ? f(x) : '?')), !!a.float);
}

/** Integer list from a constant input, refusing symbolic entries. */
export function intList(c: ConstValue | undefined, what: string, where: string): number[] {
  if (!c) throw new LensError('UNSUPPORTED_CONFIG', `${what} must be a constant`, { layer: where });
  const v = constNumbers(c);
  if (!v) throw new LensError('UNSUPPORTED_CONFIG', `${what} depends on an unknown size`, { layer: where });
  return v.map((x) => Math.trunc(x));
}

/** Output dims of Reshape(dims -> target), with ONNX 0 (copy) and -1 (infer) semantics. */
export function reshapeDims(inDims: number[], target: number[], allowZero: boolean, where: string): number[] {
  const total = inDims.reduce((a, b) => a * b, 1);
  const out = target.map((t, i) => (t === 0 && !allowZero ? inDims[i] : t));
  if (out.some((d) => d === undefined || d < -1)) throw new LensError('SHAPE_MISMATCH', `invalid reshape target ${target.join(',')}`, { layer: where });
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1) throw new LensError('SHAPE_MISMATCH', `reshape target ${target.join(',')} has more than one -1`, { layer: where });
  const known = out.reduce((a, b) => (b === -1 ? a : a * b), 1);
  if (neg === 1) {
    if (known === 0 || total % known !== 0) throw new LensError('SHAPE_MISMATCH', `cannot reshape ${inDims.join('x')} to ${target.join(',')}`, { layer: where });
    out[out.indexOf(-1)] = total / known;
  } else if (known !== total) {
    throw new LensError('SHAPE_MISMATCH', `cannot reshape ${inDims.join('x')} to ${target.join(',')}`, { layer: where });
  }
  return out;
}

function squeezeAxes(attrs: Attrs, inputs: (ConstValue | undefined)[], opset: number): number[] | undefined {
  if (opset >= 13) return inputs[1] ? intList(inputs[1], 'axes', attrs.where) : undefined;
  return attrs.ints('axes');
}

/**
 * Evaluate `node` when all its inputs are constants. Returns undefined for ops it does not know (the
 * caller then treats the node as a layer, or refuses it).
 */
export function evalConst(node: NodeProto, inputs: (ConstValue | undefined)[], opset: number, where: string): ConstValue[] | undefined {
  const attrs = new Attrs(node, where);
  const op = node.opType ?? '';
  const [a, b] = inputs;
  switch (op) {
    case 'Identity':
      return a ? [a] : undefined;
    case 'Cast': {
      if (!a) return undefined;
      const to = attrs.int('to', 1);
      const toFloat = to === 1 || to === 10 || to === 11 || to === 16;
      if (toFloat) return [make(a.dims, elems(a).map((x) => (typeof x === 'number' ? x : NaN)), true)];
      return [make(a.dims, elems(a).map((x) => (typeof x === 'number' ? Math.trunc(x) : x)), false)];
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Max': case 'Min': case 'Pow': case 'Equal':
      return a && b ? [binary(op, a, b, where)] : undefined;
    case 'Neg': case 'Sqrt': case 'Reciprocal': case 'Abs': case 'Floor': case 'Ceil': case 'Exp':
      return a ? [unary(op, a)] : undefined;
    case 'Gather': {
      if (!a || !b) return undefined;
      const axis = normAxis(attrs.int('axis', 0), a.dims.length, where);
      const ind = intList(b, 'Gather indices', where).map((i) => (i < 0 ? i + a.dims[axis] : i));
      if (ind.some((i) => i < 0 || i >= a.dims[axis])) throw new LensError('GRAPH_INVALID', `Gather index out of range`, { layer: where });
      const outDims = [...a.dims.slice(0, axis), ...b.dims, ...a.dims.slice(axis + 1)];
      const st = stridesOf(a.dims);
      const src = elems(a);
      const ir = b.dims.length;
      const ist = stridesOf(b.dims);
      return [
        mapIndex(outDims, src, !!a.float, (idx) => {
          let f = 0;
          for (let i = 0; i < axis; i++) f += idx[i] * st[i];
          let k = 0;
          for (let i = 0; i < ir; i++) k += idx[axis + i] * ist[i];
          f += ind[k] * st[axis];
          for (let i = axis + 1; i < a.dims.length; i++) f += idx[i - 1 + ir] * st[i];
          return f;
        }),
      ];
    }
    case 'Unsqueeze': {
      if (!a) return undefined;
      const axes = opset >= 13 ? intList(b, 'Unsqueeze axes', where) : attrs.ints('axes') ?? [];
      const r = a.dims.length + axes.length;
      const ax = axes.map((x) => normAxis(x, r, where)).sort((x, y) => x - y);
      const dims = [...a.dims];
      for (const x of ax) dims.splice(x, 0, 1);
      return [{ ...a, dims }];
    }
    case 'Squeeze': {
      if (!a) return undefined;
      const axes = squeezeAxes(attrs, inputs, opset);
      const ax = axes ? axes.map((x) => normAxis(x, a.dims.length, where)) : a.dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
      if (ax.some((i) => a.dims[i] !== 1)) throw new LensError('SHAPE_MISMATCH', `Squeeze of a dimension that is not 1`, { layer: where });
      return [{ ...a, dims: a.dims.filter((_, i) => !ax.includes(i)) }];
    }
    case 'Concat': {
      if (inputs.some((x) => !x) || inputs.length === 0) return undefined;
      const cs = inputs as ConstValue[];
      const rank = cs[0].dims.length;
      const axis = normAxis(attrs.int('axis', 0), rank, where);
      for (const c of cs) {
        if (c.dims.length !== rank || c.dims.some((d, i) => i !== axis && d !== cs[0].dims[i])) {
          throw new LensError('SHAPE_MISMATCH', `Concat of constants with different shapes`, { layer: where });
        }
      }
      const outer = cs[0].dims.slice(0, axis).reduce((x, y) => x * y, 1);
      const out: Elem[] = [];
      for (let o = 0; o < outer; o++) {
        for (const c of cs) {
          const inner = c.dims.slice(axis).reduce((x, y) => x * y, 1);
          out.push(...elems(c).slice(o * inner, (o + 1) * inner));
        }
      }
      const dims = [...cs[0].dims];
      dims[axis] = cs.reduce((s, c) => s + c.dims[axis], 0);
      return [make(dims, out, cs.some((c) => !!c.float))];
    }
    case 'Reshape': {
      if (!a || !b) return undefined;
      const dims = reshapeDims(a.dims, intList(b, 'Reshape shape', where), attrs.int('allowzero', 0) === 1, where);
      return [{ ...a, dims }];
    }
    case 'Flatten': {
      if (!a) return undefined;
      const axis = attrs.int('axis', 1);
      const ax = axis < 0 ? axis + a.dims.length : axis;
      const d0 = a.dims.slice(0, ax).reduce((x, y) => x * y, 1);
      const d1 = a.dims.slice(ax).reduce((x, y) => x * y, 1);
      return [{ ...a, dims: [d0, d1] }];
    }
    case 'Transpose': {
      if (!a) return undefined;
      const r = a.dims.length;
      const perm = attrs.ints('perm') ?? [...Array(r).keys()].reverse();
      const outDims = perm.map((p) => a.dims[p]);
      const st = stridesOf(a.dims);
      return [mapIndex(outDims, elems(a), !!a.float, (idx) => idx.reduce((f, v, i) => f + v * st[perm[i]], 0))];
    }
    case 'Slice': {
      if (!a) return undefined;
      let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
      if (opset < 10) {
        starts = attrs.ints('starts') ?? [];
        ends = attrs.ints('ends') ?? [];
        axes = attrs.ints('axes');
      } else {
        starts = intList(inputs[1], 'Slice starts', where);
        ends = intList(inputs[2], 'Slice ends', where);
        axes = inputs[3] ? intList(inputs[3], 'Slice axes', where) : undefined;
        steps = inputs[4] ? intList(inputs[4], 'Slice steps', where) : undefined;
      }
      const r = a.dims.length;
      const ax = (axes ?? starts.map((_, i) => i)).map((x) => normAxis(x, r, where));
      const begin = a.dims.map(() => 0);
      const step = a.dims.map(() => 1);
      const outDims = [...a.dims];
      ax.forEach((axis, k) => {
        const d = a.dims[axis];
        const s = steps?.[k] ?? 1;
        if (s === 0) throw new LensError('GRAPH_INVALID', 'Slice step 0', { layer: where });
        const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
        let st = starts[k] < 0 ? starts[k] + d : starts[k];
        let en = ends[k] < 0 ? ends[k] + d : ends[k];
        if (s > 0) {
          st = clamp(st, 0, d);
          en = clamp(en, 0, d);
          outDims[axis] = Math.max(0, Math.ceil((en - st) / s));
        } else {
          st = clamp(st, 0, d - 1);
          en = clamp(en, -1, d - 1);
          outDims[axis] = Math.max(0, Math.ceil((en - st) / s));
        }
        begin[axis] = st;
        step[axis] = s;
      });
      const stt = stridesOf(a.dims);
      return [mapIndex(outDims, elems(a), !!a.float, (idx) => idx.reduce((f, v, i) => f + (begin[i] + v * step[i]) * stt[i], 0))];
    }
    case 'ConstantOfShape': {
      if (!a) return undefined;
      const dims = intList(a, 'ConstantOfShape shape', where);
      const n = evalSize(dims, where);
      const t = attrs.tensor('value');
      let v = 0;
      let isFloat = true;
      if (t) {
        const dt = t.dataType ?? 1;
        isFloat = dt === 1 || dt === 10 || dt === 11 || dt === 16;
        v = isFloat ? (t.floatData?.[0] ?? (t.rawData && t.rawData.length >= 4 ? new DataView(t.rawData.buffer, t.rawData.byteOffset).getFloat32(0, true) : 0)) : Number(t.int64Data?.[0] ?? t.int32Data?.[0] ?? 0);
      }
      return [make(dims, new Array(n).fill(v), isFloat)];
    }
    case 'Range': {
      const [s, l, d] = [inputs[0], inputs[1], inputs[2]].map((x) => (x ? constNumbers(x)?.[0] : undefined));
      if (s === undefined || l === undefined || d === undefined || d === 0) return undefined;
      const n = Math.max(Math.ceil((l - s) / d), 0);
      evalSize([n], where);
      const out = Array.from({ length: n }, (_, i) => s + i * d);
      return [make([n], out, !!inputs[0]!.float)];
    }
    default:
      return undefined;
  }
}
