/**
 * Lazy reads from a file handle: a C-order array stored contiguously at some offset (a .npy body, a
 * NetCDF-3 variable or one record of it) is read one contiguous run at a time, so selecting one time
 * step of a large file reads that step's bytes and no more. Counts the bytes it reads.
 */
import type { FileHandle } from 'node:fs/promises';
import { LensError } from '../errors.js';
import { checkBudget } from './budget.js';
import { openRegular, readAt } from './regular-file.js';
import type { NdArray } from '../array.js';
import type { Hyperslab } from './source.js';
import { product } from './source.js';

export class ByteReader {
  bytes = 0;
  /** Reads issued (each one syscall or a few): evidence that many short runs are not read one by one. */
  reads = 0;
  private constructor(private fh: FileHandle, readonly size: number, readonly file: string) {}

  /** Regular files only (see regular-file.ts); the size is fstat's, fixed at open. */
  static async open(file: string): Promise<ByteReader> {
    const { fh, size } = await openRegular(file);
    return new ByteReader(fh, size, file);
  }

  /** Exactly `length` bytes at `offset`, or TRUNCATED when the file ends first. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.size) {
      throw new LensError('TRUNCATED', `file ends at byte ${this.size} but data extend to byte ${offset + length}`, { file: this.file });
    }
    this.reads++;
    const buf = await readAt(this.fh, offset, length);
    if (buf.length < length) throw new LensError('TRUNCATED', `file ends early at byte ${offset + buf.length}`, { file: this.file });
    this.bytes += length;
    return buf;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Up to this many runs are read one by one (exact bytes); more are read in windows. */
const MAX_RUNS = 1024;
/** A window joins runs whose gaps are at most GAP_BYTES, up to WINDOW_BYTES in all. */
const WINDOW_BYTES = 8 * 1024 * 1024;
const GAP_BYTES = 64 * 1024;
/** Largest single read (bytes). */
const MAX_READ_BYTES = 2 ** 31 - 1;

/**
 * The bytes of `slab` of a C-order array of `shape` stored at `base`, in C order of the slab.
 * Reads only the runs that the slab touches; many short runs (one column of a wide array) are read
 * in windows of nearby runs, never one element per syscall.
 */
export async function readSlabBytes(r: ByteReader, base: number, shape: number[], itemSize: number, slab: Hyperslab): Promise<Uint8Array> {
  const rank = shape.length;
  const count = slab.map(([a, b]) => b - a);
  const total = product(count);
  if (total === 0) return new Uint8Array(0);
  if (rank === 0) return r.read(base, itemSize);
  // Check the extent against the file before allocating anything (headers may lie).
  const lastElem = slab.reduce((acc, [, b], d) => acc + (b - 1) * product(shape.slice(d + 1)), 0);
  const end = base + (lastElem + 1) * itemSize;
  if (end > r.size) throw new LensError('TRUNCATED', `data extend to byte ${end} but the file has ${r.size} bytes`, { file: r.file });
  if (total * itemSize > MAX_READ_BYTES) throw new LensError('FILE_TOO_LARGE', `a read of ${total * itemSize} bytes is more than we hold at once`, { file: r.file });
  const strides = cOrderStrides(shape);
  // k: the outermost dim from which on the slab is one contiguous run.
  let k = rank - 1;
  while (k > 0 && count[k] === shape[k]) k--;
  const runElems = count[k] * strides[k];
  const runBytes = runElems * itemSize;
  const runs = total / runElems;
  checkBudget('slabRuns', runs, `contiguous runs of a ${count.join('x')} selection`, r.file);
  const out = new Uint8Array(total * itemSize);
  // Byte offsets of the runs in order, computed as they are needed (no array of them all).
  const idx = new Array<number>(k).fill(0);
  const nextOffset = (): number => {
    let off = slab[k][0] * strides[k];
    for (let d = 0; d < k; d++) off += (slab[d][0] + idx[d]) * strides[d];
    for (let d = k - 1; d >= 0; d--) {
      if (++idx[d] < count[d]) break;
      idx[d] = 0;
    }
    return off * itemSize;
  };
  if (runs <= MAX_RUNS) {
    for (let i = 0; i < runs; i++) out.set(await r.read(base + nextOffset(), runBytes), i * runBytes);
    return out;
  }
  let i = 0;
  let pending = nextOffset();
  while (i < runs) {
    // One window: runs i..j-1, consecutive offsets close together, spanning at most WINDOW_BYTES.
    const first = pending;
    const offs = [first];
    let j = i + 1;
    while (j < runs) {
      const o = nextOffset();
      const prevEnd = offs[offs.length - 1] + runBytes;
      if (o - prevEnd > GAP_BYTES || o + runBytes - first > WINDOW_BYTES) {
        pending = o;
        break;
      }
      offs.push(o);
      j++;
    }
    const block = await r.read(base + first, offs[offs.length - 1] + runBytes - first);
    offs.forEach((o, n) => out.set(block.subarray(o - first, o - first + runBytes), (i + n) * runBytes));
    i = j;
  }
  return out;
}

/** Elements between consecutive indices of each dim in a C-order array. */
function cOrderStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** Copy a hyperslab out of an in-memory C-order array (for readers that hold the whole array). */
export function sliceArray<T extends NdArray['data']>(src: T, shape: number[], slab: Hyperslab): T {
  const count = slab.map(([a, b]) => b - a);
  const total = product(count);
  const dst = new (src.constructor as { new (n: number): T })(total);
  const rank = shape.length;
  if (rank === 0 || total === 0) {
    if (rank === 0) dst[0] = src[0];
    return dst;
  }
  const strides = cOrderStrides(shape);
  const inner = count[rank - 1];
  const outer = total / inner;
  const idx = new Array<number>(rank - 1).fill(0);
  for (let i = 0; i < outer; i++) {
    let off = slab[rank - 1][0];
    for (let d = 0; d < rank - 1; d++) off += (slab[d][0] + idx[d]) * strides[d];
    for (let j = 0; j < inner; j++) dst[i * inner + j] = src[off + j];
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < count[d]) break;
      idx[d] = 0;
    }
  }
  return dst;
}
