/**
 * The array type every layer passes around: a C-order typed array plus its shape and element type (the
 * .npy dtype codes, since .npy is the format arrays leave and enter by).
 */
export type NpyDtype = 'f2' | 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1';

export interface NdArray {
  shape: number[];
  /** C-order values. Float64 stays Float64; 64-bit ints become Float64 (exact up to 2^53). */
  data: Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
  dtype: NpyDtype;
}

/** Values as float32 (the engine's type). */
export function toFloat32(a: NdArray): Float32Array {
  return a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number>);
}
