/**
 * NumPy .npy reader and writer. Reads every numeric dtype in both byte orders and C or Fortran order;
 * values come back as a C-order typed array plus shape.
 */
import { LensError } from '../errors.js';
import { halfToFloat } from '../half.js';
import { DATA_BUDGET, overBudget } from './budget.js';

import type { NdArray, NpyDtype } from '../array.js';

// The reader's API speaks of the array type it returns.
export type { NdArray, NpyDtype } from '../array.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export const ITEM_SIZE: Record<NpyDtype, number> = {
  f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1,
};

/** Largest array we will allocate from a header (elements). */
const MAX_ELEMENTS = 1 << 30;

function fail(message: string, file?: string): never {
  throw new LensError('BAD_INPUT', message, { file });
}

export interface NpyHeader {
  dtype: NpyDtype;
  littleEndian: boolean;
  fortran: boolean;
  shape: number[];
  dataOffset: number;
}

/** A Python literal of the kinds a .npy header holds. */
type PyValue = string | number | boolean | PyValue[] | { tuple: PyValue[] } | Map<string, PyValue>;

/**
 * Parse the header text as the Python literal NumPy writes (`{'descr': '<f4', 'fortran_order': False,
 * 'shape': (3, 4), }`): a dict of strings, booleans, integers, tuples and lists, nothing else (no
 * expressions, no calls: the header is never evaluated). Throws with the position of the problem.
 */
function parsePyLiteral(text: string, fail: (why: string) => never): PyValue {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const value = (depth: number): PyValue => {
    if (depth > 8) fail('header nests too deeply');
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail(`unterminated string at ${i}`);
      const str = text.slice(i + 1, end);
      if (str.includes('\\')) fail(`escape in string at ${i}`);
      i = end + 1;
      return str;
    }
    if (c === '{' || c === '(' || c === '[') {
      const close = c === '{' ? '}' : c === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      const dict = new Map<string, PyValue>();
      let commas = 0;
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          break;
        }
        if (c === '{') {
          const k = value(depth + 1);
          if (typeof k !== 'string') fail(`dict key at ${i} is not a string`);
          ws();
          if (text[i] !== ':') fail(`expected ':' at ${i}`);
          i++;
          if (dict.has(k)) fail(`key '${k}' appears twice`);
          dict.set(k, value(depth + 1));
        } else items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          commas++;
          continue;
        }
        if (text[i] !== close) fail(`expected ',' or '${close}' at ${i}`);
        i++;
        break;
      }
      if (c === '{') return dict;
      // (3) is the integer 3 in Python; (3,) is a tuple.
      if (c === '(' && items.length === 1 && commas === 0) return items[0];
      return c === '(' ? { tuple: items } : items;
    }
    const m = /^(True|False|-?\d+L?)/.exec(text.slice(i, i + 40));
    if (!m) fail(`unexpected ${JSON.stringify(text.slice(i, i + 12))} at ${i}`);
    i += m[0].length;
    if (m[0] === 'True' || m[0] === 'False') return m[0] === 'True';
    return Number(m[0].replace(/L$/, ''));
  };
  const v = value(0);
  ws();
  if (i < text.length) fail(`unexpected text after the header dict at ${i}`);
  return v;
}

const HEADER_KEYS = ['descr', 'fortran_order', 'shape'];

/** Parse the header only (exported so readers can slice the data lazily from a file handle). */
export function parseNpyHeader(bytes: Uint8Array, file?: string): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file (bad magic)', file);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated .npy header', file);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    fail(`unsupported .npy version ${major}`, file);
  }
  if (headerLen > DATA_BUDGET.npyHeaderBytes) {
    throw overBudget('npyHeaderBytes', DATA_BUDGET.npyHeaderBytes, headerLen, '.npy header length in bytes', file);
  }
  if (start + headerLen > bytes.length) fail('truncated .npy header', file);
  // Version 3 headers are UTF-8; 1 and 2 latin-1 (both ASCII in practice).
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const bad = (why: string): never => fail(`unreadable .npy header (${why}): ${text.trim().slice(0, 200)}`, file);
  const dict = parsePyLiteral(text, bad);
  if (!(dict instanceof Map)) return bad('not a dict');
  for (const k of dict.keys()) if (!HEADER_KEYS.includes(k)) bad(`unexpected key '${k}'`);
  for (const k of HEADER_KEYS) if (!dict.has(k)) bad(`no '${k}'`);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shapeV = dict.get('shape');
  if (typeof descr !== 'string') return bad(`'descr' ${Array.isArray(descr) ? 'is a structured dtype (a list of fields), which is not supported' : 'must be a string'}`);
  if (typeof fortran !== 'boolean') return bad("'fortran_order' must be True or False");
  if (shapeV === null || typeof shapeV !== 'object' || !('tuple' in shapeV)) return bad("'shape' must be a tuple");
  const dm = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  if (!dm) return bad(`dtype '${descr}' is not a plain numeric type (object, string, complex and structured arrays are not read)`);
  const code = `${dm[2]}${dm[3]}` as NpyDtype;
  if (!Object.prototype.hasOwnProperty.call(ITEM_SIZE, code)) fail(`unsupported .npy dtype ${descr} (object, string, complex and structured arrays are not read)`, file);
  if (shapeV.tuple.length > DATA_BUDGET.rank) throw overBudget('rank', DATA_BUDGET.rank, shapeV.tuple.length, '.npy rank', file);
  const shape = shapeV.tuple.map((d) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return bad(`bad dimension ${JSON.stringify(d)} in 'shape'`);
    return d;
  });
  return {
    dtype: code,
    littleEndian: dm[1] !== '>',
    fortran,
    shape,
    dataOffset: start + headerLen,
  };
}

export function readNpy(bytes: Uint8Array, file?: string): NdArray {
  const h = parseNpyHeader(bytes, file);
  const count = h.shape.reduce((a, b) => a * b, 1);
  if (count > MAX_ELEMENTS) fail(`array of ${count} elements is too large`, file);
  const size = ITEM_SIZE[h.dtype];
  if (h.dataOffset + count * size > bytes.length) {
    throw new LensError('TRUNCATED', `.npy data ends early: need ${count * size} bytes, have ${bytes.length - h.dataOffset}`, { file });
  }
  let out = decodeBytes(bytes.subarray(h.dataOffset, h.dataOffset + count * size), h.dtype, h.littleEndian);
  if (h.fortran && h.shape.length > 1) out = fortranToC(out, h.shape);
  return { shape: h.shape, data: out, dtype: h.dtype };
}

/** Typed values from raw bytes; 64-bit integers become Float64 (exact to 2^53), f2 becomes Float32. */
export function decodeBytes(bytes: Uint8Array, dtype: NpyDtype, littleEndian: boolean): NdArray['data'] {
  const n = bytes.length / ITEM_SIZE[dtype];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = littleEndian;
  switch (dtype) {
    case 'f4': { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = v.getFloat32(i * 4, le); return a; }
    case 'f8': { const a = new Float64Array(n); for (let i = 0; i < n; i++) a[i] = v.getFloat64(i * 8, le); return a; }
    case 'f2': { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = halfToFloat(v.getUint16(i * 2, le)); return a; }
    case 'i1': { const a = new Int8Array(n); for (let i = 0; i < n; i++) a[i] = v.getInt8(i); return a; }
    case 'u1': case 'b1': return new Uint8Array(bytes);
    case 'i2': { const a = new Int16Array(n); for (let i = 0; i < n; i++) a[i] = v.getInt16(i * 2, le); return a; }
    case 'u2': { const a = new Uint16Array(n); for (let i = 0; i < n; i++) a[i] = v.getUint16(i * 2, le); return a; }
    case 'i4': { const a = new Int32Array(n); for (let i = 0; i < n; i++) a[i] = v.getInt32(i * 4, le); return a; }
    case 'u4': { const a = new Uint32Array(n); for (let i = 0; i < n; i++) a[i] = v.getUint32(i * 4, le); return a; }
    case 'i8': { const a = new Float64Array(n); for (let i = 0; i < n; i++) a[i] = Number(v.getBigInt64(i * 8, le)); return a; }
    case 'u8': { const a = new Float64Array(n); for (let i = 0; i < n; i++) a[i] = Number(v.getBigUint64(i * 8, le)); return a; }
  }
}

/** Reorder Fortran-order values into C order. */
export function fortranToC<T extends NdArray['data']>(src: T, shape: number[]): T {
  const n = src.length;
  const dst = new (src.constructor as { new (n: number): T })(n);
  const rank = shape.length;
  const cStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) { cStrides[d] = s; s *= shape[d]; }
  const idx = new Array<number>(rank).fill(0);
  // Walk source in Fortran order (first index fastest).
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d] * cStrides[d];
    dst[off] = src[i];
    for (let d = 0; d < rank; d++) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return dst;
}


/** Write a little-endian C-order .npy (float32 by default, float64 for a Float64Array). */
export function writeNpy(
  data: Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array,
  shape: number[],
): Uint8Array {
  const descr =
    data instanceof Float64Array ? '<f8'
    : data instanceof Int32Array ? '<i4'
    : data instanceof Uint8Array ? '|u1'
    : data instanceof Int8Array ? '|i1'
    : data instanceof Int16Array ? '<i2'
    : data instanceof Uint16Array ? '<u2'
    : data instanceof Uint32Array ? '<u4'
    : '<f4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
