/** C-order array moves the pipeline steps share: transpose, periodic extension, masks over axes. */
import { product } from '../source.js';

/** Transpose a C-order array: out axis i is in axis perm[i]. */
export function transpose(src: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  if (perm.every((p, i) => p === i)) return { data: src, shape: outShape };
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d];
  }
  const st = perm.map((p) => inStrides[p]);
  const out = new Float32Array(src.length);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d] * st[d];
    out[i] = src[off];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** Extend axis `axis` periodically by n cells on each side. */
export function wrapAxis<T extends Float32Array | Uint8Array>(src: T, shape: number[], axis: number, n: number): { data: T; shape: number[] } {
  if (n === 0) return { data: src, shape };
  const len = shape[axis];
  const outer = product(shape.slice(0, axis));
  const inner = product(shape.slice(axis + 1));
  const outLen = len + 2 * n;
  const out = new (src.constructor as { new (k: number): T })(outer * outLen * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < outLen; j++) {
      const srcJ = (((j - n) % len) + len) % len;
      const from = (o * len + srcJ) * inner;
      out.set(src.subarray(from, from + inner) as never, (o * outLen + j) * inner);
    }
  }
  const s = shape.slice();
  s[axis] = outLen;
  return { data: out, shape: s };
}

/** AND a C-order mask over the axes where keep[i] is false. */
export function foldMask(m: Uint8Array, shape: number[], keep: boolean[]): Uint8Array {
  const outShape = shape.filter((_, i) => keep[i]);
  const out = new Uint8Array(product(outShape)).fill(1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < m.length; i++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) if (keep[d]) o = o * shape[d] + idx[d];
    if (!m[i]) out[o] = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** C-order indices, in the per-sample array (shape over layout), of the values whose spatial cell is valid. */
export function validIndices(layout: string[], shape: number[], spatial: string[], valid: Uint8Array): Int32Array {
  const spatialShape = spatial.map((d) => shape[layout.indexOf(d)]);
  const isSpatial = layout.map((d) => spatial.includes(d));
  const out: number[] = [];
  const idx = new Array<number>(layout.length).fill(0);
  const total = product(shape);
  for (let i = 0; i < total; i++) {
    let m = 0;
    let k = 0;
    for (let d = 0; d < layout.length; d++) if (isSpatial[d]) m = m * spatialShape[k++] + idx[d];
    if (valid[m]) out.push(i);
    for (let d = layout.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return Int32Array.from(out);
}
