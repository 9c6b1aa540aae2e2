/**
 * Lazy reads from a file handle: a C-order array stored contiguously at some offset (a .npy body, a
 * NetCDF-3 variable or one record of it) is read one contiguous run at a time, so selecting one time
 * step of a large file reads that step's bytes and no more. Counts the bytes it reads.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { LensError } from '../errors.js';
import type { NdArray } from './npy.js';
import type { Hyperslab } from './source.js';
import { product } from './source.js';

export class ByteReader {
  bytes = 0;
  private constructor(private fh: FileHandle, readonly size: number, readonly file: string) {}

  static async open(file: string): Promise<ByteReader> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new LensError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'DATA_ERROR', `cannot open ${file}: ${(e as Error).message}`, { file });
    }
    const st = await fh.stat();
    return new ByteReader(fh, st.size, file);
  }

  /** Exactly `length` bytes at `offset`, or TRUNCATED when the file ends first. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.size) {
      throw new LensError('TRUNCATED', `file ends at byte ${this.size} but data extend to byte ${offset + length}`, { file: this.file });
    }
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new LensError('TRUNCATED', `file ends early at byte ${offset + done}`, { file: this.file });
      done += bytesRead;
    }
    this.bytes += length;
    return buf;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Above this many runs, read the bounding byte range once (fewer syscalls) when it is small enough. */
const MAX_RUNS = 1024;
const MAX_BOUNDING_BYTES = 64 * 1024 * 1024;
/** Largest single read (bytes). */
const MAX_READ_BYTES = 2 ** 31 - 1;

/**
 * The bytes of `slab` of a C-order array of `shape` stored at `base`, in C order of the slab.
 * Reads only the runs that the slab touches.
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
  const out = new Uint8Array(total * itemSize);
  const strides = cOrderStrides(shape);
  // k: the outermost dim from which on the slab is one contiguous run.
  let k = rank - 1;
  while (k > 0 && count[k] === shape[k]) k--;
  const runElems = count[k] * strides[k];
  const runBytes = runElems * itemSize;
  const runs = total / runElems;
  const offsets: number[] = [];
  const idx = new Array<number>(k).fill(0);
  for (let i = 0; i < runs; i++) {
    let off = slab[k][0] * strides[k];
    for (let d = 0; d < k; d++) off += (slab[d][0] + idx[d]) * strides[d];
    offsets.push(off * itemSize);
    for (let d = k - 1; d >= 0; d--) {
      if (++idx[d] < count[d]) break;
      idx[d] = 0;
    }
  }
  const first = offsets[0];
  const last = offsets[offsets.length - 1] + runBytes;
  if (runs > MAX_RUNS && last - first <= MAX_BOUNDING_BYTES) {
    const block = await r.read(base + first, last - first);
    offsets.forEach((o, i) => out.set(block.subarray(o - first, o - first + runBytes), i * runBytes));
  } else {
    for (let i = 0; i < runs; i++) out.set(await r.read(base + offsets[i], runBytes), i * runBytes);
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
