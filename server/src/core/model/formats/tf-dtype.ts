/**
 * TensorFlow's DataType enum (types.proto), declared once for the three TF readers (checkpoint, SavedModel
 * graph, TF.js graph model): names, and for the numeric types they decode, byte width and a decoder of
 * little-endian raw bytes to float32 values.
 */
import { halfToFloat } from '../../half.js';

/** Enum number -> name, as TF's protos spell them (TF.js JSON may give either). */
export const TF_DTYPE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: 'DT_FLOAT', 2: 'DT_DOUBLE', 3: 'DT_INT32', 4: 'DT_UINT8', 5: 'DT_INT16', 6: 'DT_INT8', 7: 'DT_STRING',
  9: 'DT_INT64', 10: 'DT_BOOL', 14: 'DT_BFLOAT16', 17: 'DT_UINT16', 19: 'DT_HALF', 20: 'DT_RESOURCE', 21: 'DT_VARIANT',
});

type Read = (dv: DataView, i: number) => number;

/** The types whose raw bytes the readers turn into numbers: width and element reader. */
const NUMERIC: Readonly<Record<string, { bytes: number; read: Read }>> = Object.freeze({
  DT_FLOAT: { bytes: 4, read: (dv, i) => dv.getFloat32(4 * i, true) },
  DT_DOUBLE: { bytes: 8, read: (dv, i) => dv.getFloat64(8 * i, true) },
  DT_INT32: { bytes: 4, read: (dv, i) => dv.getInt32(4 * i, true) },
  DT_INT64: { bytes: 8, read: (dv, i) => Number(dv.getBigInt64(8 * i, true)) },
  DT_HALF: { bytes: 2, read: (dv, i) => halfToFloat(dv.getUint16(2 * i, true)) },
  DT_BOOL: { bytes: 1, read: (dv, i) => dv.getUint8(i) },
});

/** A DataType's name from its enum number; undefined for numbers types.proto does not define. */
export function tfDtypeName(n: number): string | undefined {
  return Object.hasOwn(TF_DTYPE_NAMES, n) ? TF_DTYPE_NAMES[n] : undefined;
}

/** Byte width of a decodable numeric type, undefined for the others (strings, resources, bfloat16...). */
export function tfDtypeBytes(name: string): number | undefined {
  return Object.hasOwn(NUMERIC, name) ? NUMERIC[name].bytes : undefined;
}

/** `n` little-endian elements of a numeric type as float32; the caller has checked the byte length. */
export function decodeTfNumbers(raw: Uint8Array, name: string, n: number): Float32Array {
  const { read } = NUMERIC[name];
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = read(dv, i);
  return out;
}
