/**
 * ONNX protobuf decoding: the model message, attributes and tensors (inline or in external data files),
 * with every declared size checked before anything is allocated.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import onnxProto from 'onnx-proto';
import { LensError, LIMITS } from '../../errors.js';
import { halfToFloat } from '../../half.js';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** protobufjs gives int64 fields as Long objects (or numbers); refuse values a double cannot hold exactly. */
export function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') {
    const n = (v as { toNumber(): number }).toNumber();
    if (!Number.isSafeInteger(n) && Number.isFinite(n) && Math.abs(n) > Number.MAX_SAFE_INTEGER) {
      // Keep the sign: INT64_MAX is a common "to the end" marker (Slice ends).
      return n > 0 ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
    }
    return n;
  }
  if (typeof v === 'string') return Number(v);
  return 0;
}

/** Decode a ModelProto; protobuf errors become TRUNCATED (ran past the end) or CORRUPT. */
export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/call stack/i.test(msg)) throw new LensError('CORRUPT', 'ONNX file nests messages too deeply', { file });
    if (e instanceof RangeError || /index out of range/i.test(msg)) {
      throw new LensError('TRUNCATED', `ONNX file ends early or is malformed: ${msg}`, { file });
    }
    throw new LensError('CORRUPT', `not a valid ONNX protobuf: ${msg}`, { file });
  }
  if (!model.graph) throw new LensError('CORRUPT', 'ONNX file has no graph', { file });
  return model;
}

// ---------------------------------------------------------------- attributes

export class Attrs {
  private readonly map = new Map<string, AttributeProto>();

  constructor(node: NodeProto, private readonly nodeName: string) {
    for (const a of node.attribute ?? []) if (a.name) this.map.set(a.name, a);
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  int(name: string, dflt: number): number {
    const a = this.map.get(name);
    if (!a) return dflt;
    return toNum(a.i);
  }

  float(name: string, dflt: number): number {
    const a = this.map.get(name);
    if (!a) return dflt;
    // Some exporters write an int where a float is expected.
    if (a.type === onnx.AttributeProto.AttributeType.INT) return toNum(a.i);
    return a.f ?? dflt;
  }

  ints(name: string): number[] | undefined {
    const a = this.map.get(name);
    if (!a) return undefined;
    return (a.ints ?? []).map(toNum);
  }

  floats(name: string): number[] | undefined {
    const a = this.map.get(name);
    if (!a) return undefined;
    return [...(a.floats ?? [])];
  }

  string(name: string, dflt: string): string {
    const a = this.map.get(name);
    if (!a || !a.s) return dflt;
    return Buffer.from(a.s).toString('utf8');
  }

  tensor(name: string): TensorProto | undefined {
    const a = this.map.get(name);
    return a?.t ?? undefined;
  }

  get where(): string {
    return this.nodeName;
  }
}

// ---------------------------------------------------------------- tensors

/**
 * A constant: float data as Float32Array; integer data as plain numbers, where shape arithmetic may
 * also hold the symbolic batch size ('N') or an unknown value ('?').
 */
export type Sym = number | 'N' | '?';
export interface ConstValue {
  dims: number[];
  float?: Float32Array;
  ints?: Sym[];
}

export function constSize(c: ConstValue): number {
  return c.float ? c.float.length : c.ints!.length;
}

/** Numbers of a constant (floats or ints); symbolic entries -> undefined. */
export function constNumbers(c: ConstValue): number[] | undefined {
  if (c.float) return Array.from(c.float);
  if (c.ints!.some((v) => typeof v !== 'number')) return undefined;
  return c.ints as number[];
}

const DT = onnx.TensorProto.DataType;
const ELEM_BYTES: Partial<Record<number, number>> = {
  [DT.FLOAT]: 4,
  [DT.DOUBLE]: 8,
  [DT.FLOAT16]: 2,
  [DT.BFLOAT16]: 2,
  [DT.INT64]: 8,
  [DT.INT32]: 4,
  [DT.INT16]: 2,
  [DT.INT8]: 1,
  [DT.UINT8]: 1,
  [DT.UINT16]: 2,
  [DT.UINT32]: 4,
  [DT.UINT64]: 8,
  [DT.BOOL]: 1,
};
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const FLOAT_TYPES = new Set<number>([DT.FLOAT, DT.DOUBLE, DT.FLOAT16, DT.BFLOAT16]);

/** Product of declared dims, refusing negative, non-integer or absurd ones before any allocation. */
export function checkedSize(dims: number[], what: string, file: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new LensError('CORRUPT', `${what} declares an invalid dimension ${d}`, { file });
    n *= d;
    if (n > LIMITS.maxTensorElements) {
      throw new LensError('SHAPE_LIMIT', `${what} declares ${dims.join('x')} elements, more than the limit of ${LIMITS.maxTensorElements}`, { file });
    }
  }
  return n;
}

export interface TensorContext {
  /** The model file (external data paths are relative to its folder). */
  file: string;
  /** Running total of weight bytes, checked against LIMITS.maxWeightBytes. */
  bytes: { total: number };
}

/** Bytes of an external-data tensor, read from a file inside the model's folder only. */
function readExternal(t: TensorProto, expectedBytes: number, ctx: TensorContext, what: string): Uint8Array {
  const kv = new Map<string, string>();
  for (const e of t.externalData ?? []) if (e.key) kv.set(e.key, e.value ?? '');
  const location = kv.get('location');
  if (!location) throw new LensError('CORRUPT', `${what} says its data is external but gives no location`, { file: ctx.file });
  const folder = dirname(resolve(ctx.file));
  const target = resolve(folder, location);
  const rel = relative(folder, target);
  if (isAbsolute(location) || rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
    throw new LensError('CORRUPT', `${what}: external data path "${location}" leaves the model's folder; refused`, { file: ctx.file });
  }
  if (!existsSync(target)) throw new LensError('FILE_NOT_FOUND', `${what}: external data file "${location}" not found next to the model`, { file: ctx.file });
  // A symlink inside the folder may still point outside it.
  const realRel = relative(realpathSync(folder), realpathSync(target));
  if (realRel.startsWith('..' + sep) || realRel === '..' || isAbsolute(realRel)) {
    throw new LensError('CORRUPT', `${what}: external data file "${location}" links outside the model's folder; refused`, { file: ctx.file });
  }
  const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
  const length = kv.has('length') ? Number(kv.get('length')) : expectedBytes;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new LensError('CORRUPT', `${what}: external data offset/length are invalid`, { file: ctx.file });
  }
  if (length !== expectedBytes) {
    throw new LensError('WEIGHT_MISMATCH', `${what}: external data holds ${length} bytes, its shape needs ${expectedBytes}`, { file: ctx.file });
  }
  const fd = openSync(target, 'r');
  try {
    const size = fstatSync(fd).size;
    if (offset + length > size) {
      throw new LensError('TRUNCATED', `${what}: external data file "${location}" has ${size} bytes, needs ${offset + length}`, { file: ctx.file });
    }
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      if (n <= 0) throw new LensError('TRUNCATED', `${what}: external data file "${location}" ends early`, { file: ctx.file });
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** A TensorProto as a ConstValue: float types -> Float32Array, integer types -> numbers. */
export function readTensor(t: TensorProto, ctx: TensorContext, name?: string): ConstValue {
  const what = `tensor "${name ?? t.name ?? ''}"`;
  const dims = (t.dims ?? []).map(toNum);
  const n = checkedSize(dims, what, ctx.file);
  const dt = t.dataType ?? 0;
  const eb = ELEM_BYTES[dt];
  if (eb === undefined) {
    throw new LensError('UNSUPPORTED_CONFIG', `${what} has data type ${DT[dt] ?? dt}, which is not supported`, { file: ctx.file });
  }
  if (t.segment) throw new LensError('UNSUPPORTED_CONFIG', `${what} is a segmented tensor, which is not supported`, { file: ctx.file });
  const isFloat = FLOAT_TYPES.has(dt);
  ctx.bytes.total += n * 4;
  if (ctx.bytes.total > LIMITS.maxWeightBytes) {
    throw new LensError('SHAPE_LIMIT', `the model's weights exceed ${LIMITS.maxWeightBytes} bytes`, { file: ctx.file });
  }

  let raw: Uint8Array | undefined;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    raw = readExternal(t, n * eb, ctx, what);
  } else if (t.rawData && t.rawData.length > 0) {
    raw = t.rawData;
    if (raw.length !== n * eb) {
      throw new LensError('WEIGHT_MISMATCH', `${what} has ${raw.length} data bytes, its shape ${dims.join('x')} needs ${n * eb}`, { file: ctx.file });
    }
  }

  if (raw) {
    if (dt === DT.FLOAT && LITTLE_ENDIAN) {
      // Fast path: copy the bytes (the slice is not necessarily 4-byte aligned).
      const out = new Float32Array(n);
      new Uint8Array(out.buffer).set(raw);
      return { dims, float: out };
    }
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (isFloat) {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        switch (dt) {
          case DT.FLOAT: out[i] = dv.getFloat32(i * 4, true); break;
          case DT.DOUBLE: out[i] = dv.getFloat64(i * 8, true); break;
          case DT.FLOAT16: out[i] = halfToFloat(dv.getUint16(i * 2, true)); break;
          default: out[i] = new Float32Array(new Uint32Array([dv.getUint16(i * 2, true) << 16]).buffer)[0]; // bfloat16
        }
      }
      return { dims, float: out };
    }
    const ints: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      switch (dt) {
        case DT.INT64: ints[i] = clampBig(dv.getBigInt64(i * 8, true)); break;
        case DT.UINT64: ints[i] = clampBig(dv.getBigUint64(i * 8, true)); break;
        case DT.INT32: ints[i] = dv.getInt32(i * 4, true); break;
        case DT.UINT32: ints[i] = dv.getUint32(i * 4, true); break;
        case DT.INT16: ints[i] = dv.getInt16(i * 2, true); break;
        case DT.UINT16: ints[i] = dv.getUint16(i * 2, true); break;
        case DT.INT8: ints[i] = dv.getInt8(i); break;
        default: ints[i] = dv.getUint8(i); // UINT8, BOOL
      }
    }
    return { dims, ints };
  }

  // Typed fields: which one depends on the data type.
  let src: ArrayLike<unknown>;
  switch (dt) {
    case DT.FLOAT: src = t.floatData ?? []; break;
    case DT.DOUBLE: src = t.doubleData ?? []; break;
    case DT.INT64: src = t.int64Data ?? []; break;
    case DT.UINT32: case DT.UINT64: src = t.uint64Data ?? []; break;
    default: src = t.int32Data ?? []; // int32, int16, int8, uint8, uint16, bool, float16 (bits), bfloat16 (bits)
  }
  if (src.length !== n) {
    throw new LensError('WEIGHT_MISMATCH', `${what} has ${src.length} values, its shape ${dims.join('x')} needs ${n}`, { file: ctx.file });
  }
  if (isFloat) {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = toNum(src[i]);
      if (dt === DT.FLOAT16) out[i] = halfToFloat(v & 0xffff);
      else if (dt === DT.BFLOAT16) out[i] = new Float32Array(new Uint32Array([(v & 0xffff) << 16]).buffer)[0];
      else out[i] = v;
    }
    return { dims, float: out };
  }
  const ints: number[] = new Array(n);
  for (let i = 0; i < n; i++) ints[i] = toNum(src[i]);
  return { dims, ints };
}

function clampBig(b: bigint): number {
  if (b > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (b < -BigInt(Number.MAX_SAFE_INTEGER)) return -Number.MAX_SAFE_INTEGER;
  return Number(b);
}

// ---------------------------------------------------------------- value infos

/** Declared shape of a graph input/output: numbers, null for symbolic or missing dims; undefined when absent. */
export function declaredShape(v: ValueInfoProto): (number | null)[] | undefined {
  const tt = v.type?.tensorType;
  if (!tt || !tt.shape) return undefined;
  return (tt.shape.dim ?? []).map((d) => {
    if (d.dimValue !== undefined && d.dimValue !== null && !d.dimParam) {
      const n = toNum(d.dimValue);
      return n > 0 ? n : null;
    }
    return null;
  });
}
